"""Every query of the supervision feature, as SQLAlchemy Core statements."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import RowMapping, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from placements.bookings.models import bookings
from placements.projections.agreements import agreements
from placements.supervision.models import (
    supervisor_assignments,
    supervisor_projection,
    supervisor_projection_units,
)

_ASSIGNMENTS = supervisor_assignments.c
_WITH_BOOKINGS = supervisor_assignments.join(bookings, bookings.c.id == _ASSIGNMENTS.booking_id)


# --- the booking and the supervisor, locked -------------------------------------------


async def lock_booking(session: AsyncSession, booking_id: uuid.UUID) -> RowMapping | None:
    """The booking row, locked on PostgreSQL until commit (None if unknown).

    The lock serialises everything that changes the booking's assignments: two
    assignments to one booking (its confirmed places), and an assignment against the
    booking's cancellation or completion, whose conditional UPDATE waits for it and then
    releases what it assigned (and vice versa: the gate then reads the new status).
    """
    stmt = select(bookings).where(bookings.c.id == booking_id).with_for_update()
    return (await session.execute(stmt)).mappings().one_or_none()


async def lock_supervisor(session: AsyncSession, supervisor_id: uuid.UUID) -> RowMapping | None:
    """The supervisor's projection row, locked on PostgreSQL until commit (None if unknown).

    Every assignment of one supervisor takes this lock before counting the supervisor's
    load, so their capacity checks run one after another.
    """
    stmt = (
        select(supervisor_projection)
        .where(supervisor_projection.c.supervisor_id == supervisor_id)
        .with_for_update()
    )
    return (await session.execute(stmt)).mappings().one_or_none()


async def supervisor_unit_ids(session: AsyncSession, supervisor_id: uuid.UUID) -> set[uuid.UUID]:
    """The units the supervisor works at (empty: none named)."""
    stmt = select(supervisor_projection_units.c.unit_id).where(
        supervisor_projection_units.c.supervisor_id == supervisor_id
    )
    return set((await session.execute(stmt)).scalars())


async def agreement_terms_text(session: AsyncSession, agreement_id: uuid.UUID) -> str | None:
    """The projected terms (JSON) of one agreement version, or None."""
    stmt = select(agreements.c.terms).where(agreements.c.agreement_id == agreement_id)
    return (await session.execute(stmt)).scalar_one_or_none()


# --- load ------------------------------------------------------------------------------


async def overlapping_load(
    session: AsyncSession, supervisor_id: uuid.UUID, *, start: date, end: date
) -> int:
    """Students the supervisor has in active assignments whose bookings overlap start..end."""
    stmt = (
        select(func.coalesce(func.sum(_ASSIGNMENTS.students), 0))
        .select_from(_WITH_BOOKINGS)
        .where(
            _ASSIGNMENTS.supervisor_id == supervisor_id,
            _ASSIGNMENTS.status == "active",
            bookings.c.start_date <= end,
            bookings.c.end_date >= start,
        )
    )
    return int(await session.scalar(stmt) or 0)


async def booking_load(session: AsyncSession, booking_id: uuid.UUID) -> int:
    """Students of the booking already with an active supervisor."""
    stmt = select(func.coalesce(func.sum(_ASSIGNMENTS.students), 0)).where(
        _ASSIGNMENTS.booking_id == booking_id, _ASSIGNMENTS.status == "active"
    )
    return int(await session.scalar(stmt) or 0)


async def is_active_on(
    session: AsyncSession, booking_id: uuid.UUID, supervisor_id: uuid.UUID
) -> bool:
    """Whether the supervisor already has an active assignment on the booking."""
    stmt = select(_ASSIGNMENTS.id).where(
        _ASSIGNMENTS.booking_id == booking_id,
        _ASSIGNMENTS.supervisor_id == supervisor_id,
        _ASSIGNMENTS.status == "active",
    )
    return (await session.execute(stmt)).first() is not None


# --- assignments -----------------------------------------------------------------------


async def insert_assignment(session: AsyncSession, values: Mapping[str, Any]) -> None:
    """Insert one assignment row."""
    await session.execute(insert(supervisor_assignments).values(**values))


async def get_assignment(
    session: AsyncSession, booking_id: uuid.UUID, assignment_id: uuid.UUID
) -> RowMapping | None:
    """One assignment of the booking, or None."""
    stmt = select(supervisor_assignments).where(
        _ASSIGNMENTS.id == assignment_id, _ASSIGNMENTS.booking_id == booking_id
    )
    return (await session.execute(stmt)).mappings().one_or_none()


async def page_of_booking(
    session: AsyncSession, booking_id: uuid.UUID, *, after: uuid.UUID | None, limit: int
) -> list[RowMapping]:
    """Up to ``limit`` of the booking's assignments after ``after``, in creation order."""
    stmt = (
        select(supervisor_assignments)
        .where(_ASSIGNMENTS.booking_id == booking_id)
        .order_by(_ASSIGNMENTS.id)
        .limit(limit)
    )
    if after is not None:
        stmt = stmt.where(_ASSIGNMENTS.id > after)
    return list((await session.execute(stmt)).mappings())


async def release_active(
    session: AsyncSession,
    *,
    booking_ids: Sequence[uuid.UUID] = (),
    supervisor_id: uuid.UUID | None = None,
    assignment_id: uuid.UUID | None = None,
    reason: str,
    weeks: int,
    now: datetime,
) -> list[RowMapping]:
    """Release the active assignments selected (by bookings, supervisor or id).

    ``student_weeks`` becomes ``students * weeks``. One conditional UPDATE: an assignment
    released concurrently is not released (nor announced) twice. Returns the released rows.
    """
    conditions = [_ASSIGNMENTS.status == "active"]
    if booking_ids:
        conditions.append(_ASSIGNMENTS.booking_id.in_(list(booking_ids)))
    if supervisor_id is not None:
        conditions.append(_ASSIGNMENTS.supervisor_id == supervisor_id)
    if assignment_id is not None:
        conditions.append(_ASSIGNMENTS.id == assignment_id)
    if len(conditions) == 1:
        raise ValueError("release_active needs a selection")
    stmt = (
        update(supervisor_assignments)
        .where(*conditions)
        .values(
            status="released",
            release_reason=reason,
            student_weeks=_ASSIGNMENTS.students * weeks,
            released_at=now,
            version=_ASSIGNMENTS.version + 1,
        )
        .returning(*supervisor_assignments.c)
    )
    rows = list((await session.execute(stmt)).mappings())
    return sorted(rows, key=lambda row: row["id"])


async def bookings_by_id(
    session: AsyncSession, booking_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, RowMapping]:
    """The booking rows of ``booking_ids``."""
    if not booking_ids:
        return {}
    stmt = select(bookings).where(bookings.c.id.in_(list(set(booking_ids))))
    return {row["id"]: row for row in (await session.execute(stmt)).mappings()}
