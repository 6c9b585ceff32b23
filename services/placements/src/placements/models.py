"""The MetaData of the placements service's own tables (units, offers, bookings)."""

from __future__ import annotations

from vfu_common.db import new_metadata

metadata = new_metadata()
