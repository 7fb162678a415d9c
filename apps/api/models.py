"""Models of apps.api."""
