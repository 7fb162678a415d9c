"""Models of apps.records."""
