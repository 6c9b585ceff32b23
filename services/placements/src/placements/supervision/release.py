"""Ending assignments when their booking or their supervisor goes away.

Called inside the transaction of the change that ends them (a booking's cancellation,
an offer's withdrawal, a placement's completion, a supervisor's deregistration), so the
booking's new status and the ``supervision.released`` events commit together. Only this
module of the feature is imported by the bookings and offers features, and it imports
nothing of theirs but tables and the week count, so there is no import cycle.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Final

from sqlalchemy.ext.asyncio import AsyncSession
from vfu_common.utc import utcnow

from placements.bookings.events import iso_weeks_spanned
from placements.bookings.models import Booking
from placements.supervision import repository, transitions
from placements.supervision.events import emit_released
from placements.supervision.models import Assignment

BOOKING_CANCELLED: Final = "booking_cancelled"
BOOKING_COMPLETED: Final = "booking_completed"
RELEASED: Final = "released"
SUPERVISOR_DEREGISTERED: Final = "supervisor_deregistered"


async def _announce(session: AsyncSession, released: Sequence[Assignment]) -> None:
    booking_rows = await repository.bookings_by_id(session, [a.booking_id for a in released])
    for assignment in released:
        await emit_released(session, assignment, booking_rows[assignment.booking_id])


async def release_for_cancelled(session: AsyncSession, booking_ids: Sequence[uuid.UUID]) -> None:
    """Release the active assignments of cancelled bookings (no student-weeks)."""
    if not booking_ids:
        return
    released = await transitions.release(
        session, booking_ids=booking_ids, reason=BOOKING_CANCELLED, weeks=0, now=utcnow()
    )
    await _announce(session, released)


async def release_for_completed(session: AsyncSession, booking: Booking) -> None:
    """Release the active assignments of a completed placement, each with its
    students times the ISO weeks the placement spanned (the supervision history)."""
    weeks = iso_weeks_spanned(booking.start_date, booking.end_date)
    released = await transitions.release(
        session, booking_ids=[booking.id], reason=BOOKING_COMPLETED, weeks=weeks, now=utcnow()
    )
    await _announce(session, released)


async def release_for_deregistered(session: AsyncSession, supervisor_id: uuid.UUID) -> None:
    """Release a deregistered supervisor's active assignments (the students need another)."""
    released = await transitions.release(
        session, supervisor_id=supervisor_id, reason=SUPERVISOR_DEREGISTERED, weeks=0, now=utcnow()
    )
    await _announce(session, released)
