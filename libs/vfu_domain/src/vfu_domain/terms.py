"""Academic terms (`YYYY-HT` autumn, `YYYY-VT` spring) and the dates they span.

Swedish universities run the autumn term from about ISO week 35 to week 2 of the next
year and the spring term from week 3 to week 23, with local variations. Placements are
checked against a deliberately generous window so that no university's real calendar is
refused: autumn from 1 August to 31 January of the next year, spring from 1 January to
30 June. The two windows overlap in January, where both terms genuinely meet.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Final

TERM_PATTERN: Final = r"^\d{4}-(HT|VT)$"
_TERM_RE: Final = re.compile(TERM_PATTERN)


@dataclass(frozen=True, slots=True)
class TermWindow:
    """The first and last day a placement in a term may fall on."""

    first_day: date
    last_day: date

    def contains(self, start: date, end: date) -> bool:
        """True when the whole period ``start``..``end`` lies inside the window."""
        return self.first_day <= start and end <= self.last_day


def term_window(term: str) -> TermWindow:
    """The window of ``term`` (e.g. ``"2027-HT"``).

    Raises:
        ValueError: ``term`` is not ``YYYY-HT`` or ``YYYY-VT``.
    """
    if not _TERM_RE.match(term):
        raise ValueError(f"term must look like 2027-HT or 2027-VT, not {term!r}")
    year = int(term[:4])
    if term.endswith("HT"):
        return TermWindow(date(year, 8, 1), date(year + 1, 1, 31))
    return TermWindow(date(year, 1, 1), date(year, 6, 30))


def term_of(day: date) -> str:
    """The term a start date most plausibly belongs to (autumn from August, else spring)."""
    if day.month >= 8:
        return f"{day.year}-HT"
    return f"{day.year}-VT"
