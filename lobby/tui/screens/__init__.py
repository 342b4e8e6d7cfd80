"""lobby's screens, one per module, each imported only when first shown."""
