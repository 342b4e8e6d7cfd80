"""lobby's widgets, one per module."""
