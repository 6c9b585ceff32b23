"""The calendar day agreement rules run on, replaceable so tests can move time.

Agreement dates (valid_from, valid_to, notice) are Swedish calendar days: an agreement
starting 1 January is active from midnight Swedish time (vfu_common.scheduling.Clock).
"""

from __future__ import annotations

from vfu_common.scheduling import Clock

# The one clock the service and the scheduler read.
CLOCK = Clock()

__all__ = ["CLOCK", "Clock"]
