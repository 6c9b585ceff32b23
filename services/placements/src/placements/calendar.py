"""The calendar day the placements service's date-driven rules run on (tests pin it)."""

from __future__ import annotations

from vfu_domain.swedish_calendar import SwedishCalendar

# The one calendar the service's rules and its scheduler read.
CALENDAR = SwedishCalendar()
