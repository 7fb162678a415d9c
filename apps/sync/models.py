"""Models of apps.sync."""
