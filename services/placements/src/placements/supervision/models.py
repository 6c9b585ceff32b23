"""The supervisor projection and the ``supervisor_assignments`` table.

``supervisor_projection`` is the placements service's copy of every supervisor as the
supervisors service announces them (SupervisorV1: ids, profession, units, capacity,
licence and training level, never a name); the gate decides from it alone, never by
asking the supervisors service.

An assignment puts ``students`` of a confirmed booking with one supervisor. The CHECKs
keep each row consistent (a released row says why and when, an active one does not),
and a partial unique index allows one active assignment per supervisor and booking. What
no CHECK can say is the capacity rule, a sum over the supervisor's other active
assignments whose bookings overlap in time: the service serialises assignments per
supervisor (see ``service.assign``) and checks it there.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final, get_args

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    Table,
    Uuid,
    text,
)
from sqlalchemy.sql.elements import conv
from vfu_common.db import UtcDateTime, one_of
from vfu_common.events.contracts import AssignmentReleaseReason, TrainingLevel
from vfu_common.rows import row_of

from placements.bookings.models import TABLE as BOOKINGS_TABLE
from placements.models import metadata
from placements.vocabularies import ASSIGNMENT_STATUSES, AssignmentStatus

PROJECTION_TABLE: Final = "supervisor_projection"
PROJECTION_UNITS_TABLE: Final = "supervisor_projection_units"
ASSIGNMENTS_TABLE: Final = "supervisor_assignments"

RELEASE_REASONS: Final[tuple[str, ...]] = get_args(AssignmentReleaseReason)
TRAINING_LEVELS: Final[tuple[str, ...]] = get_args(TrainingLevel)

_UNITS_FK: Final = "fk_supervisor_projection_units_supervisor"
_ASSIGNMENT_BOOKING_FK: Final = "fk_supervisor_assignments_booking_id_bookings"
_ASSIGNMENT_SUPERVISOR_FK: Final = "fk_supervisor_assignments_supervisor"
# One active assignment per supervisor and booking (released ones are history).
ONE_ACTIVE_INDEX: Final = "uq_supervisor_assignments_active_supervisor_booking"
_INDEXES: Final = {
    # The capacity count: a supervisor's active assignments.
    "ix_supervisor_assignments_supervisor": ("supervisor_id", "status"),
    # A booking's assignments (listing, release on cancel or completion).
    "ix_supervisor_assignments_booking": ("booking_id", "status"),
}


def _check(table: str, sql: str, name: str) -> CheckConstraint:
    return CheckConstraint(sql, name=conv(f"ck_{table}_{name}"))


def _projection_columns() -> list[Any]:
    table = PROJECTION_TABLE
    return [
        Column("supervisor_id", Uuid, primary_key=True),
        Column("employer_id", Uuid, nullable=False),
        Column("profession_code", String(64), nullable=False),
        Column("max_concurrent_students", Integer, nullable=False),
        Column("active", Boolean, nullable=False),
        Column("licence_verified", Boolean, nullable=False),
        Column("level_achieved", String(32), nullable=True),
        Column("required_level", String(32), nullable=False),
        # Against required_level (the profession's default); the gate re-evaluates against
        # the stricter of that and the booking's agreement, so this is informative only.
        Column("qualified", Boolean, nullable=False),
        Column("aggregate_version", Integer, nullable=False),
        Column("updated_at", UtcDateTime, nullable=False),
        _check(table, "max_concurrent_students >= 1", "capacity_positive"),
        _check(table, "aggregate_version >= 1", "version_positive"),
        _check(
            table,
            f"level_achieved IS NULL OR {one_of('level_achieved', TRAINING_LEVELS)}",
            "level_known",
        ),
        _check(table, one_of("required_level", TRAINING_LEVELS), "required_level_known"),
    ]


def _projection_unit_columns() -> list[Any]:
    return [
        Column("supervisor_id", Uuid, primary_key=True),
        Column("unit_id", Uuid, primary_key=True),
        ForeignKeyConstraint(
            ["supervisor_id"],
            [f"{PROJECTION_TABLE}.supervisor_id"],
            name=_UNITS_FK,
            ondelete="CASCADE",
        ),
    ]


def _assignment_columns() -> list[Any]:
    table = ASSIGNMENTS_TABLE
    return [
        Column("id", Uuid, primary_key=True),
        Column("booking_id", Uuid, nullable=False),
        Column("supervisor_id", Uuid, nullable=False),
        Column("students", Integer, nullable=False),
        Column("status", String(16), nullable=False),
        Column("release_reason", String(32), nullable=True),
        # Students times ISO weeks supervised; set on release (0 unless completed).
        Column("student_weeks", Integer, nullable=True),
        Column("version", Integer, nullable=False),
        Column("created_by", String(255), nullable=False),
        Column("created_at", UtcDateTime, nullable=False),
        Column("released_at", UtcDateTime, nullable=True),
        ForeignKeyConstraint(["booking_id"], [f"{BOOKINGS_TABLE}.id"], name=_ASSIGNMENT_BOOKING_FK),
        ForeignKeyConstraint(
            ["supervisor_id"],
            [f"{PROJECTION_TABLE}.supervisor_id"],
            name=_ASSIGNMENT_SUPERVISOR_FK,
        ),
        _check(table, "students >= 1", "students_positive"),
        _check(table, one_of("status", ASSIGNMENT_STATUSES), "status_known"),
        _check(
            table,
            f"release_reason IS NULL OR {one_of('release_reason', RELEASE_REASONS)}",
            "release_reason_known",
        ),
        _check(table, "student_weeks IS NULL OR student_weeks >= 0", "student_weeks_positive"),
        _check(
            table,
            "(status = 'active' AND release_reason IS NULL AND released_at IS NULL"
            " AND student_weeks IS NULL)"
            " OR (status = 'released' AND release_reason IS NOT NULL"
            " AND released_at IS NOT NULL AND student_weeks IS NOT NULL)",
            "release_consistent",
        ),
        _check(table, "version >= 1", "version_positive"),
    ]


supervisor_projection = Table(PROJECTION_TABLE, metadata, *_projection_columns())
supervisor_projection_units = Table(PROJECTION_UNITS_TABLE, metadata, *_projection_unit_columns())
supervisor_assignments = Table(ASSIGNMENTS_TABLE, metadata, *_assignment_columns())


@row_of(supervisor_projection)
@dataclass(frozen=True)
class ProjectedSupervisor:
    """A ``supervisor_projection`` row: the service's copy of one supervisor."""

    supervisor_id: uuid.UUID
    employer_id: uuid.UUID
    profession_code: str
    max_concurrent_students: int
    active: bool
    licence_verified: bool
    level_achieved: str | None
    required_level: str
    qualified: bool
    aggregate_version: int
    updated_at: datetime


@row_of(supervisor_assignments)
@dataclass(frozen=True)
class Assignment:
    """A ``supervisor_assignments`` row as read."""

    id: uuid.UUID
    booking_id: uuid.UUID
    supervisor_id: uuid.UUID
    students: int
    status: AssignmentStatus
    release_reason: str | None
    student_weeks: int | None
    version: int
    created_by: str
    created_at: datetime
    released_at: datetime | None


for _name, _cols in _INDEXES.items():
    Index(_name, *(supervisor_assignments.c[c] for c in _cols))
_ACTIVE_SQL: Final = "status = 'active'"
_ACTIVE = text(_ACTIVE_SQL)
Index(
    ONE_ACTIVE_INDEX,
    supervisor_assignments.c.supervisor_id,
    supervisor_assignments.c.booking_id,
    unique=True,
    sqlite_where=_ACTIVE,
    postgresql_where=_ACTIVE,
)
