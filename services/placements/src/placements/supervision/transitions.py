"""The assignment state machine, and the only code that changes an assignment's status.

``active → released``: by the provider's hand, or when the booking is cancelled or
completed, or the supervisor deregistered (``supervision.release``). A release is one
conditional UPDATE of the active assignments selected, so one released concurrently is
neither released nor announced twice.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Final

from sqlalchemy.ext.asyncio import AsyncSession

from placements.supervision import repository
from placements.supervision.models import Assignment
from placements.vocabularies import AssignmentStatus

ACTIVE: Final[AssignmentStatus] = "active"
RELEASED: Final[AssignmentStatus] = "released"


def opened(values: dict[str, Any]) -> Assignment:
    """A new assignment: active, version 1, nothing released."""
    return Assignment(
        **values,
        status=ACTIVE,
        release_reason=None,
        student_weeks=None,
        version=1,
        released_at=None,
    )


async def release(
    session: AsyncSession,
    *,
    booking_ids: Sequence[uuid.UUID] = (),
    supervisor_id: uuid.UUID | None = None,
    assignment_id: uuid.UUID | None = None,
    reason: str,
    weeks: int,
    now: datetime,
) -> list[Assignment]:
    """Release the active assignments selected (by bookings, supervisor or id), with
    ``students * weeks`` student-weeks; the released rows, in id order."""
    return await repository.update_active(
        session,
        booking_ids=booking_ids,
        supervisor_id=supervisor_id,
        assignment_id=assignment_id,
        values={"status": RELEASED, "release_reason": reason, "released_at": now},
        weeks=weeks,
    )
