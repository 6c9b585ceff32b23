"""Assignment events: the assignment and its booking's facts, written to the outbox.

Every SupervisorAssignmentV1 is built here from the assignment row and its booking row
(which copies the offer's unit, provider, profession, model and dates), so assigned and
released events of any path (the endpoint, a booking's cancellation or completion, a
supervisor's deregistration) look the same. Aggregate: the assignment, at its version.
"""

from __future__ import annotations

from typing import Any, Final

from sqlalchemy.ext.asyncio import AsyncSession
from vfu_common.events.contracts import (
    SUPERVISOR_ASSIGNED,
    SUPERVISOR_RELEASED,
    SupervisorAssignedV1,
    SupervisorReleasedV1,
)
from vfu_common.messaging.outbox import emit

from placements.bookings.models import Booking
from placements.supervision.models import Assignment

SOURCE: Final = "/vfu/placements"
_BOOKING_FIELDS: Final = (
    "offer_id",
    "unit_id",
    "provider_id",
    "university_id",
    "profession_code",
    "supervision_model",
    "start_date",
    "end_date",
)


def _fields(assignment: Assignment, booking: Booking) -> dict[str, Any]:
    return {
        "assignment_id": assignment.id,
        "supervisor_id": assignment.supervisor_id,
        "booking_id": assignment.booking_id,
        "students": assignment.students,
        **{name: getattr(booking, name) for name in _BOOKING_FIELDS},
    }


async def emit_assigned(session: AsyncSession, assignment: Assignment, booking: Booking) -> None:
    """``supervision.assigned`` for a new assignment (same transaction)."""
    await emit(
        session,
        SUPERVISOR_ASSIGNED,
        SupervisorAssignedV1(**_fields(assignment, booking)),
        source=SOURCE,
        aggregate_id=assignment.id,
        aggregate_version=assignment.version,
    )


async def emit_released(session: AsyncSession, assignment: Assignment, booking: Booking) -> None:
    """``supervision.released`` for an assignment just released (same transaction)."""
    payload = SupervisorReleasedV1(
        **_fields(assignment, booking),
        reason=assignment.release_reason,
        student_weeks=assignment.student_weeks,
    )
    await emit(
        session,
        SUPERVISOR_RELEASED,
        payload,
        source=SOURCE,
        aggregate_id=assignment.id,
        aggregate_version=assignment.version,
    )
