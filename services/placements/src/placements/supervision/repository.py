"""Every query of the supervision feature, as SQLAlchemy Core statements."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from vfu_common.rows import all_as, one_as, values_of

from placements.bookings.models import Booking, bookings
from placements.projections.agreements import agreements
from placements.supervision.models import (
    Assignment,
    ProjectedSupervisor,
    supervisor_assignments,
    supervisor_projection,
    supervisor_projection_units,
)

_ASSIGNMENTS = supervisor_assignments.c
_WITH_BOOKINGS = supervisor_assignments.join(bookings, bookings.c.id == _ASSIGNMENTS.booking_id)


# --- the booking and the supervisor, locked -------------------------------------------


async def lock_booking(session: AsyncSession, booking_id: uuid.UUID) -> Booking | None:
    """The booking row, locked on PostgreSQL until commit (None if unknown).

    The lock serialises everything that changes the booking's assignments: two
    assignments to one booking (its confirmed places), and an assignment against the
    booking's cancellation or completion, whose conditional UPDATE waits for it and then
    releases what it assigned (and vice versa: the gate then reads the new status).
    """
    stmt = select(bookings).where(bookings.c.id == booking_id).with_for_update()
    return one_as(Booking, await session.execute(stmt))


async def lock_supervisor(
    session: AsyncSession, supervisor_id: uuid.UUID
) -> ProjectedSupervisor | None:
    """The supervisor's projection row, locked on PostgreSQL until commit (None if unknown).

    Every assignment of one supervisor takes this lock before counting the supervisor's
    load, so their capacity checks run one after another.
    """
    stmt = (
        select(supervisor_projection)
        .where(supervisor_projection.c.supervisor_id == supervisor_id)
        .with_for_update()
    )
    return one_as(ProjectedSupervisor, await session.execute(stmt))


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


async def insert_assignment(session: AsyncSession, assignment: Assignment) -> None:
    """Insert one assignment row."""
    await session.execute(insert(supervisor_assignments).values(**values_of(assignment)))


async def get_assignment(
    session: AsyncSession, booking_id: uuid.UUID, assignment_id: uuid.UUID
) -> Assignment | None:
    """One assignment of the booking, or None."""
    stmt = select(supervisor_assignments).where(
        _ASSIGNMENTS.id == assignment_id, _ASSIGNMENTS.booking_id == booking_id
    )
    return one_as(Assignment, await session.execute(stmt))


async def page_of_booking(
    session: AsyncSession, booking_id: uuid.UUID, *, after: uuid.UUID | None, limit: int
) -> list[Assignment]:
    """Up to ``limit`` of the booking's assignments after ``after``, in creation order."""
    stmt = (
        select(supervisor_assignments)
        .where(_ASSIGNMENTS.booking_id == booking_id)
        .order_by(_ASSIGNMENTS.id)
        .limit(limit)
    )
    if after is not None:
        stmt = stmt.where(_ASSIGNMENTS.id > after)
    return all_as(Assignment, await session.execute(stmt))


async def update_active(
    session: AsyncSession,
    *,
    booking_ids: Sequence[uuid.UUID] = (),
    supervisor_id: uuid.UUID | None = None,
    assignment_id: uuid.UUID | None = None,
    values: Mapping[str, Any],
    weeks: int,
) -> list[Assignment]:
    """Apply ``values`` to the active assignments selected (by bookings, supervisor or id),
    ``student_weeks`` becoming ``students * weeks``; the changed rows, in id order.

    One conditional UPDATE: an assignment changed concurrently is not changed twice.
    """
    conditions = [_ASSIGNMENTS.status == "active"]
    if booking_ids:
        conditions.append(_ASSIGNMENTS.booking_id.in_(list(booking_ids)))
    if supervisor_id is not None:
        conditions.append(_ASSIGNMENTS.supervisor_id == supervisor_id)
    if assignment_id is not None:
        conditions.append(_ASSIGNMENTS.id == assignment_id)
    if len(conditions) == 1:
        raise ValueError("update_active needs a selection")
    stmt = (
        update(supervisor_assignments)
        .where(*conditions)
        .values(
            **values,
            student_weeks=_ASSIGNMENTS.students * weeks,
            version=_ASSIGNMENTS.version + 1,
        )
        .returning(*supervisor_assignments.c)
    )
    rows = all_as(Assignment, await session.execute(stmt))
    return sorted(rows, key=lambda row: row.id)


async def bookings_by_id(
    session: AsyncSession, booking_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, Booking]:
    """The booking rows of ``booking_ids``."""
    if not booking_ids:
        return {}
    stmt = select(bookings).where(bookings.c.id.in_(list(set(booking_ids))))
    return {row.id: row for row in all_as(Booking, await session.execute(stmt))}
