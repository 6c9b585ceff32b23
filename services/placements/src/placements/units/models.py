"""The ``care_units`` table.

The migrations hold their own DDL; the ``Table`` here is what runtime code queries.
County and healthcare region are derived from the municipality when a unit is written and
stored, because the portal search filters on them (Halland's healthcare region depends
on the municipality, never on the county).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    Float,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.sql.elements import conv
from vfu_common.db import UtcDateTime
from vfu_common.rows import row_of

from placements.models import metadata
from placements.vocabularies import CARE_SETTINGS, CareSetting, one_of

TABLE: Final = "care_units"
_INDEXES: Final = {
    "ix_care_units_provider": ("provider_id", "id"),
}
_UNIQUE_HSA: Final = "uq_care_units_hsa_id"


def _columns() -> list[Any]:
    return [
        Column("id", Uuid, primary_key=True),
        Column("provider_id", Uuid, nullable=False),
        Column("name", String(200), nullable=False),
        Column("hsa_id", String(31), nullable=True),
        UniqueConstraint("hsa_id", name=conv(_UNIQUE_HSA)),
        Column("municipality_code", String(4), nullable=False),
        Column("county_code", String(2), nullable=False),
        Column("healthcare_region", String(32), nullable=False),
        Column("care_setting", String(40), nullable=False),
        Column("latitude", Float, nullable=True),
        Column("longitude", Float, nullable=True),
        Column("rural", Boolean, nullable=False),
        Column("vulnerable_area", Boolean, nullable=False),
        # A JSON list of short strings ("criminal-record extract", "Swedish B2", ...).
        Column("special_requirements", Text, nullable=False),
        Column("version", Integer, nullable=False),
        Column("created_at", UtcDateTime, nullable=False),
        Column("updated_at", UtcDateTime, nullable=False),
        CheckConstraint(
            one_of("care_setting", CARE_SETTINGS), name=conv("ck_care_units_care_setting_known")
        ),
        CheckConstraint(
            "(latitude IS NULL) = (longitude IS NULL)",
            name=conv("ck_care_units_coordinates_together"),
        ),
        CheckConstraint(
            "latitude IS NULL OR (latitude BETWEEN -90 AND 90 AND longitude BETWEEN -180 AND 180)",
            name=conv("ck_care_units_coordinates_range"),
        ),
        CheckConstraint("version >= 1", name=conv("ck_care_units_version_positive")),
    ]


care_units = Table(TABLE, metadata, *_columns())


@row_of(care_units)
@dataclass(frozen=True)
class Unit:
    """A ``care_units`` row as read."""

    id: uuid.UUID
    provider_id: uuid.UUID
    name: str
    hsa_id: str | None
    municipality_code: str
    county_code: str
    healthcare_region: str
    care_setting: CareSetting
    latitude: float | None
    longitude: float | None
    rural: bool
    vulnerable_area: bool
    special_requirements: str
    version: int
    created_at: datetime
    updated_at: datetime


for _name, _cols in _INDEXES.items():
    Index(_name, *(care_units.c[c] for c in _cols))
