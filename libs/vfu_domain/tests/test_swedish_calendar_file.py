"""A running service's clock moved by a file (development systems, end-to-end tests)."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

from vfu_domain.swedish_calendar import SwedishCalendar


def _write(path: Path, text: str) -> None:
    # Written beside and renamed over, as the calendar asks.
    temporary = path.with_suffix(".new")
    temporary.write_text(text)
    os.replace(temporary, path)


def test_today_follows_the_file_and_the_real_date_without_one(tmp_path: Path) -> None:
    calendar, real = SwedishCalendar(), SwedishCalendar().today()
    path = tmp_path / "today"
    calendar.follow(path)
    assert calendar.today() == real  # no file yet
    _write(path, "2027-04-01\n")
    assert calendar.today() == date(2027, 4, 1)
    _write(path, "2027-04-16")
    assert calendar.today() == date(2027, 4, 16)  # replaced at once: read again
    calendar.set(date(2030, 1, 1))
    assert calendar.today() == date(2030, 1, 1)  # a pinned day wins
    calendar.set(None)
    _write(path, "")
    assert calendar.today() == real  # empty: the real date again
    calendar.follow(None)
    _write(path, "2027-04-01")
    assert calendar.today() == real
