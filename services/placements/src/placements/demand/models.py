"""The ``demand_lines`` table: what each university asks of a planning round.

Lists (care settings, municipalities, counties) are JSON text: they are read with the
line, never queried into. A withdrawn line is kept (status ``withdrawn``), so the round's
record of what was asked, and when, stays whole.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Final, get_args

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    Uuid,
)
from vfu_common.db import UtcDateTime, one_of
from vfu_common.events.contracts import DemandLineStatus
from vfu_common.rows import row_of

from placements.models import metadata

DEMAND_STATUSES: Final = get_args(DemandLineStatus)
MAX_STUDENTS: Final = 1000

demand_lines = Table(
    "demand_lines",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("round_id", Uuid, ForeignKey("planning_rounds.id"), nullable=False),
    Column("university_id", Uuid, nullable=False),
    Column("profession_code", String(64), nullable=False),
    Column("programme_code", String(64), nullable=False),
    Column("course_code", String(16), nullable=False),
    Column("course_instance", String(20), nullable=True),
    Column("start_date", Date, nullable=False),
    Column("end_date", Date, nullable=False),
    Column("students", Integer, nullable=False),
    Column("care_settings", Text, nullable=False),
    Column("municipality_codes", Text, nullable=False),
    Column("county_codes", Text, nullable=False),
    Column("max_distance_km", Integer, nullable=True),
    Column("accepts_other_municipality", Boolean, nullable=False),
    Column("accepts_other_weeks", Boolean, nullable=False),
    Column("status", String(16), nullable=False),
    Column("version", Integer, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    CheckConstraint(f"students BETWEEN 1 AND {MAX_STUDENTS}", name="students_in_range"),
    CheckConstraint("end_date >= start_date", name="period_in_order"),
    CheckConstraint("max_distance_km IS NULL OR max_distance_km > 0", name="distance_positive"),
    CheckConstraint(one_of("status", DEMAND_STATUSES), name="status_known"),
)
# A university's lines in a round (its own reading, and every edit's lookup).
Index(
    "ix_demand_lines_round_university",
    demand_lines.c.round_id,
    demand_lines.c.university_id,
    demand_lines.c.id,
)


@row_of(demand_lines)
@dataclass(frozen=True)
class DemandLine:
    """One row of ``demand_lines``."""

    id: uuid.UUID
    round_id: uuid.UUID
    university_id: uuid.UUID
    profession_code: str
    programme_code: str
    course_code: str
    course_instance: str | None
    start_date: date
    end_date: date
    students: int
    care_settings: str
    municipality_codes: str
    county_codes: str
    max_distance_km: int | None
    accepts_other_municipality: bool
    accepts_other_weeks: bool
    status: str
    version: int
    created_at: datetime
    updated_at: datetime
