"""Request and response bodies of the supervision endpoints."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field
from vfu_common.events.contracts import AssignmentReleaseReason

from placements.supervision.models import Assignment
from placements.vocabularies import AssignmentStatus

# No placement has more students than this; a bound keeps nonsense out at the edge.
MAX_STUDENTS = 100


class AssignmentCreate(BaseModel):
    """Assign a supervisor to students of a confirmed booking."""

    model_config = ConfigDict(extra="forbid")

    supervisor_id: uuid.UUID = Field(description="The supervisors service's supervisor id")
    students: int = Field(
        default=1,
        ge=1,
        le=MAX_STUDENTS,
        description="How many of the booking's students this supervisor takes",
    )


class AssignmentOut(BaseModel):
    """A supervisor's assignment to a booking (ids only: no personal fields here)."""

    id: uuid.UUID
    booking_id: uuid.UUID
    supervisor_id: uuid.UUID
    students: int
    status: AssignmentStatus
    release_reason: AssignmentReleaseReason | None
    student_weeks: int | None = Field(
        description="Students times ISO weeks supervised, set on release (0 unless completed)"
    )
    version: int
    created_at: datetime
    released_at: datetime | None

    @classmethod
    def from_row(cls, row: Assignment) -> AssignmentOut:
        """The API view of a stored assignment."""
        return cls.model_validate({name: getattr(row, name) for name in cls.model_fields})
