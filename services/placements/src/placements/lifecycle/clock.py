"""The calendar day placements start and end on, replaceable so tests can move time."""

from __future__ import annotations

from vfu_common.scheduling import Clock

# The one clock the lifecycle scheduler reads.
CLOCK = Clock()

__all__ = ["CLOCK", "Clock"]
