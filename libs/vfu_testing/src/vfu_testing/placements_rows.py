"""Rows of the placements service's care units and offers, for tests and benchmarks that
write them straight to the database (to pin one feature, or to seed far more than the API
would take in time).

One home for what such a row holds, so a new column is added here once. The location
columns of an offer are copied from its unit, as the offers API does.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from placements.offers.service import LOCATION_COLUMNS
from vfu_common.utc import utcnow
from vfu_common.uuid7 import new_id
from vfu_domain.reference import municipalities

START = date(2027, 9, 6)  # a Monday
END = date(2027, 10, 29)  # a Friday, eight ISO weeks later


def unit_row(
    provider_id: Any,
    *,
    municipality_code: str = "0380",
    now: datetime | None = None,
    **overrides: Any,
) -> dict[str, Any]:
    """A care unit of ``provider_id`` in a hospital ward; county and healthcare region
    derived from the municipality as the units API does."""
    municipality = municipalities()[municipality_code]
    now = now or utcnow()
    row: dict[str, Any] = {
        "id": new_id(),
        "provider_id": provider_id,
        "name": "Avdelning 1",
        "hsa_id": None,
        "municipality_code": municipality_code,
        "county_code": municipality.lan_code,
        "healthcare_region": municipality.healthcare_region,
        "care_setting": "slutenvard",
        "latitude": None,
        "longitude": None,
        "rural": False,
        "vulnerable_area": False,
        "special_requirements": "[]",
        "version": 1,
        "created_at": now,
        "updated_at": now,
    }
    return row | overrides


def offer_row(
    unit: dict[str, Any], *, now: datetime | None = None, **overrides: Any
) -> dict[str, Any]:
    """A published offer for everyone on ``unit``: nursing, 2027-HT, 10 places.

    A draft (``status="draft"``) has no ``published_at`` unless one is given.
    """
    now = now or utcnow()
    row: dict[str, Any] = {
        "id": new_id(),
        "unit_id": unit["id"],
        "provider_id": unit["provider_id"],
        "programme_code": "sjukskoterskeprogrammet",
        "profession_code": "sjukskoterska",
        "level": "grundniva",
        "term": "2027-HT",
        "start_date": START,
        "end_date": END,
        "places": 10,
        "held_places": 0,
        "confirmed_places": 0,
        "supervision_model": "one_to_one",
        "visibility": "all",
        "status": "published",
        "auto_confirm": False,
        "requirements": "[]",
        "published_at": now,
        "release_on": None,
        "released_at": None,
        "version": 1,
        "created_at": now,
        "updated_at": now,
        **{column: unit[column] for column in LOCATION_COLUMNS},
    }
    row |= overrides
    if row["status"] == "draft" and "published_at" not in overrides:
        row["published_at"] = None
    return row
