"""Capacity offers: places a provider publishes for a programme, term and unit."""
