"""The ``capacity_offers`` table.

Never overbook: ``held_places`` (requested bookings) plus
``confirmed_places`` never exceed ``places``. Code changes the counters only through
conditional UPDATEs (``... WHERE held_places + confirmed_places + :n <= places``), and the
CHECK constraint below refuses any write that would break it anyway, on SQLite and
PostgreSQL alike.

The unit's location and flags are copied onto each offer (and refreshed when the unit
changes) so the portal search filters one table without a join.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Final

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    Date,
    Float,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    Table,
    Text,
    Uuid,
)
from sqlalchemy.sql.elements import conv
from vfu_common.db import UtcDateTime
from vfu_common.rows import row_of

from placements.models import metadata
from placements.units.models import TABLE as UNITS_TABLE
from placements.vocabularies import (
    CARE_SETTINGS,
    LEVELS,
    OFFER_STATUSES,
    SUPERVISION_MODELS,
    VISIBILITIES,
    CareSetting,
    Level,
    OfferStatus,
    SupervisionModel,
    Visibility,
    one_of,
)

TABLE: Final = "capacity_offers"
_UNIT_FK: Final = "fk_capacity_offers_unit_id_care_units"
_INDEXES: Final = {
    "ix_capacity_offers_unit": ("unit_id",),
    "ix_capacity_offers_provider": ("provider_id", "id"),
    "ix_capacity_offers_status_term": ("status", "term", "start_date"),
}


# Every offer past draft was published once; migration 0004 said exactly that, but a
# draft may also be withdrawn without ever being published, so migration 0006 lets a
# withdrawn offer have no published_at.
_PUBLISHED_AT_SET: Final = "published_at_set"
PUBLISHED_AT_RULE: Final = "status IN ('draft', 'withdrawn') OR published_at IS NOT NULL"


def _check(sql: str, name: str) -> CheckConstraint:
    return CheckConstraint(sql, name=conv(f"ck_capacity_offers_{name}"))


def _columns(published_at_rule: str = PUBLISHED_AT_RULE) -> list[Any]:
    return [
        Column("id", Uuid, primary_key=True),
        Column("unit_id", Uuid, nullable=False),
        Column("provider_id", Uuid, nullable=False),
        Column("programme_code", String(64), nullable=True),
        Column("profession_code", String(64), nullable=False),
        Column("level", String(32), nullable=False),
        Column("term", String(7), nullable=False),
        Column("start_date", Date, nullable=False),
        Column("end_date", Date, nullable=False),
        Column("places", Integer, nullable=False),
        Column("held_places", Integer, nullable=False),
        Column("confirmed_places", Integer, nullable=False),
        Column("supervision_model", String(20), nullable=False),
        Column("visibility", String(16), nullable=False),
        Column("status", String(16), nullable=False),
        # Confirm requests at once (no provider step), for offers a provider fills first come.
        Column("auto_confirm", Boolean, nullable=False),
        Column("requirements", Text, nullable=False),  # JSON list of short strings
        # Copied from the unit for the search.
        Column("municipality_code", String(4), nullable=False),
        Column("county_code", String(2), nullable=False),
        Column("healthcare_region", String(32), nullable=False),
        Column("care_setting", String(40), nullable=False),
        Column("rural", Boolean, nullable=False),
        Column("vulnerable_area", Boolean, nullable=False),
        Column("latitude", Float, nullable=True),
        Column("longitude", Float, nullable=True),
        Column("published_at", UtcDateTime, nullable=True),
        # The day free places open to every university, and when that was done.
        Column("release_on", Date, nullable=True),
        Column("released_at", UtcDateTime, nullable=True),
        Column("version", Integer, nullable=False),
        Column("created_at", UtcDateTime, nullable=False),
        Column("updated_at", UtcDateTime, nullable=False),
        ForeignKeyConstraint(["unit_id"], [f"{UNITS_TABLE}.id"], name=_UNIT_FK),
        _check("places > 0", "places_positive"),
        _check("held_places >= 0 AND confirmed_places >= 0", "counts_non_negative"),
        _check("held_places + confirmed_places <= places", "never_overbooked"),
        _check(
            "supervision_model <> 'peer_2_to_1' OR (places / 2) * 2 = places", "peer_places_even"
        ),
        _check("end_date >= start_date", "dates_ordered"),
        _check("release_on IS NULL OR release_on <= start_date", "released_before_start"),
        _check(one_of("level", LEVELS), "level_known"),
        _check(one_of("supervision_model", SUPERVISION_MODELS), "supervision_model_known"),
        _check(one_of("visibility", VISIBILITIES), "visibility_known"),
        _check(one_of("status", OFFER_STATUSES), "status_known"),
        _check(one_of("care_setting", CARE_SETTINGS), "care_setting_known"),
        _check(published_at_rule, _PUBLISHED_AT_SET),
        _check("version >= 1", "version_positive"),
    ]


capacity_offers = Table(TABLE, metadata, *_columns())
for _name, _cols in _INDEXES.items():
    Index(_name, *(capacity_offers.c[c] for c in _cols))


@row_of(capacity_offers)
@dataclass(frozen=True)
class Offer:
    """A ``capacity_offers`` row as read."""

    id: uuid.UUID
    unit_id: uuid.UUID
    provider_id: uuid.UUID
    programme_code: str | None
    profession_code: str
    level: Level
    term: str
    start_date: date
    end_date: date
    places: int
    held_places: int
    confirmed_places: int
    supervision_model: SupervisionModel
    visibility: Visibility
    status: OfferStatus
    auto_confirm: bool
    requirements: str
    municipality_code: str
    county_code: str
    healthcare_region: str
    care_setting: CareSetting
    rural: bool
    vulnerable_area: bool
    latitude: float | None
    longitude: float | None
    published_at: datetime | None
    release_on: date | None
    released_at: datetime | None
    version: int
    created_at: datetime
    updated_at: datetime

    @property
    def free_places(self) -> int:
        """Places neither held by a request nor confirmed."""
        return self.places - self.held_places - self.confirmed_places
