"""Models of apps.sharing."""
