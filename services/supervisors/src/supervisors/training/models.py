"""The ``training_courses`` and ``training_records`` tables.

Course codes are local to each university, so a course
is unique by provider and code. One record per supervisor and course: a retake re-opens
the failed or withdrawn record instead of adding a duplicate.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Final

from sqlalchemy import (
    CheckConstraint,
    Column,
    Date,
    ForeignKeyConstraint,
    Index,
    Integer,
    Numeric,
    String,
    Table,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.sql.elements import conv
from vfu_common.db import UtcDateTime, one_of
from vfu_common.events.contracts import TrainingLevel, TrainingRecordStatus
from vfu_common.rows import row_of

from supervisors.models import metadata
from supervisors.registry.models import TABLE as SUPERVISORS
from supervisors.vocabularies import (
    COURSE_DELIVERIES,
    RECORD_STATUSES,
    TRAINING_LEVELS,
    CourseDelivery,
)

COURSES_TABLE: Final = "training_courses"
RECORDS_TABLE: Final = "training_records"
_INDEXES: Final = {
    "ix_training_courses_provider": (COURSES_TABLE, ("provider_id", "course_code")),
    "ix_training_records_course": (RECORDS_TABLE, ("course_id",)),
}


def _course_columns() -> list[Any]:
    return [
        Column("id", Uuid, primary_key=True),
        Column("provider_id", Uuid, nullable=False),
        Column("course_code", String(20), nullable=False),
        Column("title", String(200), nullable=False),
        Column("credits_hp", Numeric(5, 1), nullable=True),
        Column("hours", Integer, nullable=True),
        Column("level", String(20), nullable=False),
        Column("delivery", String(20), nullable=False),
        Column("version", Integer, nullable=False),
        Column("created_at", UtcDateTime, nullable=False),
        Column("updated_at", UtcDateTime, nullable=False),
        UniqueConstraint("provider_id", "course_code", name=conv("uq_training_courses_code")),
        CheckConstraint(
            "credits_hp IS NOT NULL OR hours IS NOT NULL",
            name=conv("ck_training_courses_credits_or_hours"),
        ),
        CheckConstraint(
            "(credits_hp IS NULL OR credits_hp > 0) AND (hours IS NULL OR hours > 0)",
            name=conv("ck_training_courses_extent_positive"),
        ),
        CheckConstraint(one_of("level", TRAINING_LEVELS), name=conv("ck_training_courses_level")),
        CheckConstraint(
            one_of("delivery", COURSE_DELIVERIES), name=conv("ck_training_courses_delivery")
        ),
        CheckConstraint("version >= 1", name=conv("ck_training_courses_version_positive")),
    ]


def _record_columns() -> list[Any]:
    return [
        Column("id", Uuid, primary_key=True),
        Column("supervisor_id", Uuid, nullable=False),
        Column("course_id", Uuid, nullable=False),
        Column("status", String(20), nullable=False),
        Column("completed_on", Date, nullable=True),
        Column("verified_at", UtcDateTime, nullable=True),
        Column("reported_by_organisation_id", Uuid, nullable=False),
        Column("version", Integer, nullable=False),
        Column("created_at", UtcDateTime, nullable=False),
        Column("updated_at", UtcDateTime, nullable=False),
        UniqueConstraint("supervisor_id", "course_id", name=conv("uq_training_records_once")),
        ForeignKeyConstraint(
            ["supervisor_id"],
            [f"{SUPERVISORS}.id"],
            name=conv("fk_training_records_supervisor"),
            ondelete="CASCADE",
        ),
        ForeignKeyConstraint(
            ["course_id"], [f"{COURSES_TABLE}.id"], name=conv("fk_training_records_course")
        ),
        CheckConstraint(one_of("status", RECORD_STATUSES), name=conv("ck_training_records_status")),
        CheckConstraint(
            "(completed_on IS NOT NULL) = (status IN ('completed', 'verified'))",
            name=conv("ck_training_records_completed_on_iff_completed"),
        ),
        CheckConstraint(
            "(verified_at IS NOT NULL) = (status = 'verified')",
            name=conv("ck_training_records_verified_at_iff_verified"),
        ),
        CheckConstraint("version >= 1", name=conv("ck_training_records_version_positive")),
    ]


training_courses = Table(COURSES_TABLE, metadata, *_course_columns())
training_records = Table(RECORDS_TABLE, metadata, *_record_columns())
_TABLES: Final = {COURSES_TABLE: training_courses, RECORDS_TABLE: training_records}
for _name, (_table, _cols) in _INDEXES.items():
    Index(_name, *(_TABLES[_table].c[c] for c in _cols))


@row_of(training_courses)
@dataclass(frozen=True)
class Course:
    """A ``training_courses`` row as read."""

    id: uuid.UUID
    provider_id: uuid.UUID
    course_code: str
    title: str
    credits_hp: Decimal | None
    hours: int | None
    level: TrainingLevel
    delivery: CourseDelivery
    version: int
    created_at: datetime
    updated_at: datetime


@row_of(training_records)
@dataclass(frozen=True)
class TrainingRecord:
    """A ``training_records`` row as read."""

    id: uuid.UUID
    supervisor_id: uuid.UUID
    course_id: uuid.UUID
    status: TrainingRecordStatus
    completed_on: date | None
    verified_at: datetime | None
    reported_by_organisation_id: uuid.UUID
    version: int
    created_at: datetime
    updated_at: datetime
