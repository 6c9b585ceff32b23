"""The Swedish calendar day that date-driven rules run on, pinnable so tests can move time.

Agreement validity and placement periods are Swedish calendar days, so "today" is taken
in Europe/Stockholm, not UTC: an agreement starting 1 January is active from midnight
Swedish time.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

STOCKHOLM = ZoneInfo("Europe/Stockholm")


class SwedishCalendar:
    """Today's date; ``set`` pins it (tests), ``set(None)`` returns to the real calendar."""

    def __init__(self) -> None:
        self._pinned: date | None = None

    def today(self) -> date:
        """The current calendar day in Sweden, or the pinned day."""
        if self._pinned is not None:
            return self._pinned
        return datetime.now(STOCKHOLM).date()

    def set(self, day: date | None) -> None:
        """Pin today to ``day`` (None: follow the real calendar again)."""
        self._pinned = day

    def advance(self, days: int) -> date:
        """Move a pinned (or the real) today forward by ``days``; returns the new today."""
        self._pinned = self.today() + timedelta(days=days)
        return self._pinned
