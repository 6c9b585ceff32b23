"""Read models that several services keep identically from other services' events."""
