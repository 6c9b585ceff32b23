"""Request and response shapes of the bookings endpoints."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, datetime
from typing import Annotated, Self

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)
from pydantic_core import PydanticCustomError
from vfu_common.input_rules import cross_field_rules
from vfu_common.rows import values_of

from placements.bookings.models import NOTE_LENGTH, STUDENT_ID_LENGTH, Booking
from placements.vocabularies import BookingStatus, SupervisionModel

MAX_PLACES = 10_000
# Reasons the service itself gives; a party cannot claim them.
RESERVED_REASONS = frozenset({"offer_withdrawn", "agreement_ended"})

StudentId = Annotated[
    str,
    StringConstraints(min_length=1, max_length=STUDENT_ID_LENGTH, pattern=r"^[A-Za-z0-9_-]+$"),
]
CourseField = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, min_length=1, max_length=32, pattern=r"^[A-Za-z0-9][\w.:/-]*$"
    ),
]


def _distinct(ids: list[str]) -> list[str]:
    if len(set(ids)) != len(ids):
        raise PydanticCustomError("student_ids_repeated", "student_ids must not repeat an id")
    return ids


def _not_reserved(reason: str) -> str:
    if reason in RESERVED_REASONS:
        raise ValueError(f"{reason!r} is given by the service itself")
    return reason


StudentIds = Annotated[
    list[StudentId], AfterValidator(_distinct), Field(json_schema_extra={"uniqueItems": True})
]
ReasonCode = Annotated[
    str,
    StringConstraints(min_length=1, max_length=64, pattern=r"^[a-z][a-z0-9_]*$"),
    AfterValidator(_not_reserved),
]


class BookingCreate(BaseModel):
    """A university's request for places on an offer, for one course instance."""

    offer_id: uuid.UUID
    places: int = Field(ge=1, le=MAX_PLACES)
    course_code: CourseField
    course_instance: CourseField
    student_ids: StudentIds = Field(
        default_factory=list,
        max_length=MAX_PLACES,
        description="Pseudonymous student ids from the university (at most `places`)",
    )
    note: str | None = Field(default=None, max_length=NOTE_LENGTH)

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra=cross_field_rules(
            more_students_than_places="student_ids has at most `places` ids"
        ),
    )

    @model_validator(mode="after")
    def _students_fit(self) -> Self:
        # Knowable from the request alone, so a request error (422), not a conflict.
        if len(self.student_ids) > self.places:
            raise PydanticCustomError("more_students_than_places", "more student_ids than places")
        return self


class BookingConfirm(BaseModel):
    """The provider's answer: all requested places (default) or fewer."""

    model_config = ConfigDict(extra="forbid")

    places: int | None = Field(default=None, ge=1, le=MAX_PLACES)


class BookingReason(BaseModel):
    """Why a booking is declined or cancelled: a short code, and optionally words."""

    model_config = ConfigDict(extra="forbid")

    reason: ReasonCode = Field(description="snake_case code, e.g. `course_cancelled`")
    detail: str | None = Field(default=None, max_length=500)


class BookingStudents(BaseModel):
    """The full set of students on the booking (replaces the previous set)."""

    model_config = ConfigDict(extra="forbid")

    student_ids: StudentIds = Field(max_length=MAX_PLACES)


class BookingOut(BaseModel):
    """A booking as the university, the provider and coordinators see it."""

    id: uuid.UUID
    offer_id: uuid.UUID
    unit_id: uuid.UUID
    provider_id: uuid.UUID
    university_id: uuid.UUID
    programme_code: str | None
    profession_code: str
    course_code: str
    course_instance: str
    term: str
    start_date: date
    end_date: date
    supervision_model: SupervisionModel
    requested_places: int
    confirmed_places: int
    status: BookingStatus
    reason: str | None
    reason_detail: str | None
    cancelled_by_organisation_id: uuid.UUID | None
    cancel_lead_days: int | None = Field(
        description="Days from the day it was cancelled to the start (cancelled bookings)"
    )
    cancelled_late: bool | None = Field(
        description="Cancelled under the notice (six weeks before the start): a late cancellation"
    )
    agreement_id: uuid.UUID | None = Field(
        description="The agreement version that covered the booking when it was requested"
    )
    agreement_ends_on: date | None = Field(
        description="Set when the covering agreement ends before the placement does"
    )
    round_id: uuid.UUID | None = Field(
        description="The planning round whose published allocation made it (None: booked)"
    )
    note: str | None
    student_ids: list[str]
    version: int
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_row(cls, row: Booking, student_ids: Sequence[str]) -> BookingOut:
        """From a ``bookings`` row and its students."""
        return cls.model_validate({**values_of(row), "student_ids": list(student_ids)})


class BookingFilters(BaseModel):
    """Query filters of the bookings list."""

    model_config = ConfigDict(extra="forbid")

    offer_id: uuid.UUID | None = None
    status: BookingStatus | None = None
