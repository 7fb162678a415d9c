"""Models of apps.audit."""
