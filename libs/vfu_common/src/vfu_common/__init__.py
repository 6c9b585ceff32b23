"""vfu_common."""
