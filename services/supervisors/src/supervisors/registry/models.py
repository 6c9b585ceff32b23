"""The ``supervisors`` and ``supervisor_units`` tables.

A supervisor has one licensed profession, so their qualification is kept on the row
itself (``level_achieved`` .. ``qualification_lapsed_at``), recomputed in the same
transaction as every licence or training change.
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
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.sql.elements import conv
from vfu_common.db import UtcDateTime, one_of
from vfu_common.rows import row_of

from supervisors.models import metadata
from supervisors.vocabularies import TRAINING_LEVELS

TABLE: Final = "supervisors"
UNITS_TABLE: Final = "supervisor_units"
_INDEXES: Final = {
    "ix_supervisors_employer": (TABLE, ("employer_id", "id")),
    "ix_supervisor_units_unit": (UNITS_TABLE, ("unit_id",)),
}


def _supervisor_columns() -> list[Any]:
    return [
        Column("id", Uuid, primary_key=True),
        Column("employer_id", Uuid, nullable=False),
        # The employer's own id for the person (staff number); matches bulk training rows.
        Column("employer_reference", String(64), nullable=True),
        Column("name", String(200), nullable=False),
        Column("hsa_id", String(31), nullable=True),
        Column("profession_code", String(40), nullable=False),
        Column("licence_verified", Boolean, nullable=False),
        Column("licence_verified_on", Date, nullable=True),
        # A JSON list drawn from SUPERVISOR_ROLES.
        Column("roles", Text, nullable=False),
        Column("max_concurrent_students", Integer, nullable=False),
        Column("active", Boolean, nullable=False),
        Column("level_achieved", String(20), nullable=True),
        Column("required_level", String(20), nullable=False),
        Column("qualified", Boolean, nullable=False),
        Column("qualification_reason", String(40), nullable=False),
        Column("qualified_since", UtcDateTime, nullable=True),
        # Set when ``qualified`` goes from true to false; cleared when it is true again.
        Column("qualification_lapsed_at", UtcDateTime, nullable=True),
        Column("version", Integer, nullable=False),
        Column("created_at", UtcDateTime, nullable=False),
        Column("updated_at", UtcDateTime, nullable=False),
        UniqueConstraint("hsa_id", name=conv("uq_supervisors_hsa_id")),
        UniqueConstraint(
            "employer_id", "employer_reference", name=conv("uq_supervisors_employer_reference")
        ),
        CheckConstraint(
            "max_concurrent_students >= 1", name=conv("ck_supervisors_capacity_positive")
        ),
        CheckConstraint(
            "level_achieved IS NULL OR " + one_of("level_achieved", TRAINING_LEVELS),
            name=conv("ck_supervisors_level_achieved_known"),
        ),
        CheckConstraint(
            one_of("required_level", TRAINING_LEVELS),
            name=conv("ck_supervisors_required_level_known"),
        ),
        CheckConstraint(
            "licence_verified OR licence_verified_on IS NULL",
            name=conv("ck_supervisors_licence_date_only_when_verified"),
        ),
        CheckConstraint("version >= 1", name=conv("ck_supervisors_version_positive")),
    ]


def _unit_columns() -> list[Any]:
    return [
        Column("supervisor_id", Uuid, primary_key=True),
        Column("unit_id", Uuid, primary_key=True),
        ForeignKeyConstraint(
            ["supervisor_id"],
            [f"{TABLE}.id"],
            name=conv("fk_supervisor_units_supervisor"),
            ondelete="CASCADE",
        ),
    ]


supervisors = Table(TABLE, metadata, *_supervisor_columns())
supervisor_units = Table(UNITS_TABLE, metadata, *_unit_columns())
_TABLES: Final = {TABLE: supervisors, UNITS_TABLE: supervisor_units}
for _name, (_table, _cols) in _INDEXES.items():
    Index(_name, *(_TABLES[_table].c[c] for c in _cols))


@row_of(supervisors)
@dataclass(frozen=True)
class Supervisor:
    """A ``supervisors`` row as read."""

    id: uuid.UUID
    employer_id: uuid.UUID
    employer_reference: str | None
    name: str
    hsa_id: str | None
    profession_code: str
    licence_verified: bool
    licence_verified_on: date | None
    roles: str
    max_concurrent_students: int
    active: bool
    level_achieved: str | None
    required_level: str
    qualified: bool
    qualification_reason: str
    qualified_since: datetime | None
    qualification_lapsed_at: datetime | None
    version: int
    created_at: datetime
    updated_at: datetime
