"""The Swedish calendar day that date-driven rules run on, pinnable so tests can move time.

Agreement validity and placement periods are Swedish calendar days, so "today" is taken
in Europe/Stockholm, not UTC: an agreement starting 1 January is active from midnight
Swedish time.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

STOCKHOLM = ZoneInfo("Europe/Stockholm")


class SwedishCalendar:
    """Today's date; ``set`` pins it (tests), ``set(None)`` returns to the real calendar.

    ``follow(path)`` takes today from a file holding an ISO date, for a development system
    or an end-to-end test that must move a running service's clock (a round's gates pass
    by date); an absent or empty file means the real date. A pinned day wins over both.
    Replace the file to change the date (write another, rename it over): it is read
    again when its inode or modification time changes.
    """

    def __init__(self) -> None:
        self._pinned: date | None = None
        self._file: Path | None = None
        self._file_state: tuple[tuple[int, int], date | None] = ((-1, -1), None)

    def today(self) -> date:
        """The current calendar day in Sweden, or the pinned day."""
        if self._pinned is not None:
            return self._pinned
        if self._file is not None and (day := self._from_file(self._file)) is not None:
            return day
        return datetime.now(STOCKHOLM).date()

    def follow(self, path: Path | None) -> None:
        """Take today from ``path`` (None: stop following a file)."""
        self._file = path
        self._file_state = ((-1, -1), None)

    def _from_file(self, path: Path) -> date | None:
        try:
            stat = path.stat()
        except FileNotFoundError:
            return None
        stamp = (stat.st_ino, stat.st_mtime_ns)
        if stamp != self._file_state[0]:  # read again only when the file changed
            text = path.read_text().strip()
            self._file_state = (stamp, date.fromisoformat(text) if text else None)
        return self._file_state[1]

    def set(self, day: date | None) -> None:
        """Pin today to ``day`` (None: follow the real calendar again)."""
        self._pinned = day

    def advance(self, days: int) -> date:
        """Move a pinned (or the real) today forward by ``days``; returns the new today."""
        self._pinned = self.today() + timedelta(days=days)
        return self._pinned
