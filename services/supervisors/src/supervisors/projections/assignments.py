"""The assignment read model: which supervisor supervises whom, from placements' events.

The placements service's supervisor gate publishes ``supervision.assigned`` and
``supervision.released`` with the assignment's full state. Each event replaces the row of
its ``assignment_id`` when its aggregate version is newer than the stored one, so order
and duplicates cannot corrupt the model. From it the service derives each supervisor's
current load, their supervision history, and which universities may see them (privacy:
a university sees supervisors assigned, now or in the past, to its bookings).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy import (
    CheckConstraint,
    Column,
    Date,
    Index,
    Integer,
    Select,
    String,
    Table,
    Uuid,
    case,
    func,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import conv
from vfu_common.db import UtcDateTime, upsert_if_newer
from vfu_common.events.contracts import (
    SUPERVISOR_ASSIGNED,
    SUPERVISOR_RELEASED,
    SupervisorAssignedV1,
    SupervisorAssignmentV1,
    SupervisorReleasedV1,
)
from vfu_common.events.envelope import Envelope
from vfu_common.messaging.consumer import Handler
from vfu_common.utc import utcnow

from supervisors.models import metadata

TABLE: Final = "supervisor_assignments"
# Only completed placements count as supervised (a cancelled one supervised nobody).
COMPLETED: Final = "booking_completed"
_INDEXES: Final = {
    "ix_supervisor_assignments_supervisor": ("supervisor_id", "status"),
    "ix_supervisor_assignments_university": ("university_id", "supervisor_id"),
}


def _columns() -> list[Any]:
    return [
        Column("assignment_id", Uuid, primary_key=True),
        Column("supervisor_id", Uuid, nullable=False),
        Column("booking_id", Uuid, nullable=False),
        Column("university_id", Uuid, nullable=False),
        Column("provider_id", Uuid, nullable=False),
        Column("unit_id", Uuid, nullable=False),
        Column("profession_code", String(40), nullable=False),
        Column("supervision_model", String(20), nullable=False),
        Column("students", Integer, nullable=False),
        Column("start_date", Date, nullable=False),
        Column("end_date", Date, nullable=False),
        Column("status", String(10), nullable=False),
        Column("release_reason", String(40), nullable=True),
        Column("student_weeks", Integer, nullable=True),
        Column("aggregate_version", Integer, nullable=False),
        Column("updated_at", UtcDateTime, nullable=False),
        CheckConstraint(
            "status IN ('active', 'released')", name=conv("ck_supervisor_assignments_status")
        ),
        CheckConstraint(
            "(release_reason IS NOT NULL) = (status = 'released')",
            name=conv("ck_supervisor_assignments_reason_iff_released"),
        ),
        CheckConstraint("students >= 1", name=conv("ck_supervisor_assignments_students")),
        CheckConstraint(
            "student_weeks IS NULL OR student_weeks >= 0",
            name=conv("ck_supervisor_assignments_student_weeks"),
        ),
    ]


supervisor_assignments = Table(TABLE, metadata, *_columns())
for _name, _cols in _INDEXES.items():
    Index(_name, *(supervisor_assignments.c[c] for c in _cols))


# --- handlers ------------------------------------------------------------------------------


def _row(envelope: Envelope, payload: SupervisorAssignmentV1) -> dict[str, Any]:
    return {
        "assignment_id": payload.assignment_id,
        "supervisor_id": payload.supervisor_id,
        "booking_id": payload.booking_id,
        "university_id": payload.university_id,
        "provider_id": payload.provider_id,
        "unit_id": payload.unit_id,
        "profession_code": payload.profession_code,
        "supervision_model": payload.supervision_model,
        "students": payload.students,
        "start_date": payload.start_date,
        "end_date": payload.end_date,
        "aggregate_version": envelope.aggregateversion,
        "updated_at": utcnow(),
    }


async def on_supervisor_assigned(
    session: AsyncSession, envelope: Envelope, payload: SupervisorAssignedV1
) -> None:
    """An active assignment (unless a newer version of it is already stored)."""
    values = _row(envelope, payload) | {
        "status": "active",
        "release_reason": None,
        "student_weeks": None,
    }
    await upsert_if_newer(session, supervisor_assignments, values, key="assignment_id")


async def on_supervisor_released(
    session: AsyncSession, envelope: Envelope, payload: SupervisorReleasedV1
) -> None:
    """A released assignment, with why and the student-weeks of a completed placement."""
    values = _row(envelope, payload) | {
        "status": "released",
        "release_reason": payload.reason,
        "student_weeks": payload.student_weeks,
    }
    await upsert_if_newer(session, supervisor_assignments, values, key="assignment_id")


HANDLERS: dict[str, Handler] = {
    SUPERVISOR_ASSIGNED.event_type: on_supervisor_assigned,
    SUPERVISOR_RELEASED.event_type: on_supervisor_released,
}


# --- reads ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Load:
    """A supervisor's current students and what they supervised to completion."""

    current_students: int = 0
    placements_supervised: int = 0
    student_weeks: int = 0


async def loads(
    session: AsyncSession, supervisor_ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, Load]:
    """The load and history of each supervisor (absent: no assignments yet)."""
    ids = sorted(set(supervisor_ids))
    if not ids:
        return {}
    t = supervisor_assignments
    completed = (t.c.status == "released") & (t.c.release_reason == COMPLETED)
    stmt = (
        select(
            t.c.supervisor_id,
            func.coalesce(func.sum(case((t.c.status == "active", t.c.students), else_=0)), 0),
            func.coalesce(func.sum(case((completed, 1), else_=0)), 0),
            func.coalesce(func.sum(case((completed, t.c.student_weeks), else_=0)), 0),
        )
        .where(t.c.supervisor_id.in_(ids))
        .group_by(t.c.supervisor_id)
    )
    return {
        row[0]: Load(int(row[1]), int(row[2]), int(row[3]))
        for row in (await session.execute(stmt)).all()
    }


def supervisors_of_university(university_id: uuid.UUID) -> Select[tuple[uuid.UUID]]:
    """SELECT of the supervisors ever assigned to one of the university's bookings."""
    t = supervisor_assignments
    return select(t.c.supervisor_id).where(t.c.university_id == university_id).distinct()


async def universities_with_access(
    session: AsyncSession, supervisor_ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, set[uuid.UUID]]:
    """For each supervisor, the universities whose bookings they were ever assigned to."""
    ids = sorted(set(supervisor_ids))
    if not ids:
        return {}
    t = supervisor_assignments
    stmt = select(t.c.supervisor_id, t.c.university_id).where(t.c.supervisor_id.in_(ids)).distinct()
    access: dict[uuid.UUID, set[uuid.UUID]] = {}
    for supervisor_id, university_id in (await session.execute(stmt)).all():
        access.setdefault(supervisor_id, set()).add(university_id)
    return access


async def university_may_see(
    session: AsyncSession, university_id: uuid.UUID, supervisor_id: uuid.UUID
) -> bool:
    """Whether the supervisor was ever assigned to one of the university's bookings."""
    t = supervisor_assignments
    stmt = (
        select(t.c.assignment_id)
        .where(t.c.university_id == university_id, t.c.supervisor_id == supervisor_id)
        .limit(1)
    )
    return (await session.execute(stmt)).first() is not None
