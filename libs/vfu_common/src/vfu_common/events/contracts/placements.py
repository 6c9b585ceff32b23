"""Events the placements service publishes: offers, bookings and placements, care units
and supervisor assignments."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Literal

from pydantic import Field

from vfu_common.events.contracts.registry import EventPayload, register

SupervisionModel = Literal["one_to_one", "peer_2_to_1", "group", "student_ward"]
OfferStatus = Literal["draft", "published", "closed", "withdrawn"]
OfferVisibility = Literal["partners", "all"]
BookingStatus = Literal[
    "requested", "confirmed", "declined", "cancelled", "in_progress", "completed"
]


class OfferV1(EventPayload):
    """A capacity offer's full state: consumers never need to ask the placements service."""

    offer_id: uuid.UUID
    unit_id: uuid.UUID
    provider_id: uuid.UUID
    programme_code: str | None = None
    profession_code: str
    level: str
    term: str = Field(pattern=r"^\d{4}-(HT|VT)$")
    start_date: date
    end_date: date
    places: int
    held_places: int = Field(description="Places held by requested bookings")
    confirmed_places: int
    free_places: int
    supervision_model: SupervisionModel
    visibility: OfferVisibility
    status: OfferStatus
    municipality_code: str
    care_setting: str
    release_on: date | None = Field(
        default=None, description="The day its free places open to every university"
    )


class OfferPublishedV1(OfferV1):
    """The offer became visible to universities (and portals)."""


class OfferUpdatedV1(OfferV1):
    """A published offer's terms or counts changed."""


class OfferClosedV1(OfferV1):
    """The offer takes no more bookings; existing bookings stand."""


class OfferReleasedV1(OfferV1):
    """The offer's release date came: its free places are open to every university
    (visibility ``all``), whatever its visibility was."""


class OfferWithdrawnV1(OfferV1):
    """The provider withdrew the offer; its open bookings were cancelled (own events)."""

    cancelled_booking_ids: list[uuid.UUID] = Field(default_factory=list)


class BookingV1(EventPayload):
    """A booking's full state, with what consumers need from its offer and unit."""

    booking_id: uuid.UUID
    offer_id: uuid.UUID
    unit_id: uuid.UUID
    provider_id: uuid.UUID
    university_id: uuid.UUID
    programme_code: str | None = None
    profession_code: str
    course_code: str
    course_instance: str
    term: str = Field(pattern=r"^\d{4}-(HT|VT)$")
    start_date: date
    end_date: date
    requested_places: int
    confirmed_places: int
    student_count: int = Field(description="Students attached (their ids never leave the service)")
    supervision_model: SupervisionModel
    status: BookingStatus
    agreement_id: uuid.UUID | None = Field(
        default=None, description="The agreement version that covered the booking when requested"
    )
    round_id: uuid.UUID | None = Field(
        default=None, description="The planning round whose published allocation made it"
    )
    reason: str | None = Field(default=None, description="Why it was declined or cancelled")


class BookingRequestedV1(BookingV1):
    """A university requested places; they are held until the provider answers."""


class BookingConfirmedV1(BookingV1):
    """The provider confirmed ``confirmed_places`` (possibly fewer than requested)."""


class BookingDeclinedV1(BookingV1):
    """The provider declined the request; the held places are free again."""


class BookingCancelledV1(BookingV1):
    """Either side cancelled (``reason``), or the offer was withdrawn (``offer_withdrawn``)."""

    cancelled_by_organisation_id: uuid.UUID | None = None
    cancel_lead_days: int | None = Field(
        default=None, description="Days from the day of cancelling to the start"
    )
    cancelled_late: bool | None = Field(
        default=None, description="Under the notice before the start: a late cancellation"
    )


class BookingAgreementEndedV1(BookingV1):
    """The agreement covering a confirmed booking ends before the placement does."""

    agreement_ends_on: date | None = None


class PlacementStartedV1(BookingV1):
    """The placement period began (its start date passed, or the provider said so)."""


class PlacementCompletedV1(BookingV1):
    """The placement ended; ``student_weeks`` counts students times ISO weeks placed."""

    student_weeks: int


class UnitV1(EventPayload):
    """A care unit's public facts: which provider owns it and where it is."""

    unit_id: uuid.UUID
    provider_id: uuid.UUID
    name: str
    municipality_code: str
    care_setting: str


class UnitRegisteredV1(UnitV1):
    """A provider registered a care unit."""


class UnitChangedV1(UnitV1):
    """A care unit's details changed (full new state)."""


AssignmentReleaseReason = Literal[
    "released", "booking_completed", "booking_cancelled", "supervisor_deregistered"
]


class SupervisorAssignmentV1(EventPayload):
    """A supervisor assigned to (or released from) students of a confirmed booking."""

    assignment_id: uuid.UUID
    supervisor_id: uuid.UUID
    booking_id: uuid.UUID
    offer_id: uuid.UUID
    unit_id: uuid.UUID
    provider_id: uuid.UUID
    university_id: uuid.UUID
    profession_code: str
    supervision_model: SupervisionModel
    students: int = Field(ge=1, description="Students of the booking this supervisor takes")
    start_date: date
    end_date: date


class SupervisorAssignedV1(SupervisorAssignmentV1):
    """The supervisor gate accepted the assignment."""


class SupervisorReleasedV1(SupervisorAssignmentV1):
    """The assignment ended; ``student_weeks`` counts only a completed placement."""

    reason: AssignmentReleaseReason
    student_weeks: int = Field(ge=0)


OFFER_PUBLISHED = register("vfu.placements.offer.published.v1", OfferPublishedV1, "offer")
OFFER_UPDATED = register("vfu.placements.offer.updated.v1", OfferUpdatedV1, "offer")
OFFER_CLOSED = register("vfu.placements.offer.closed.v1", OfferClosedV1, "offer")
OFFER_RELEASED = register("vfu.placements.offer.released.v1", OfferReleasedV1, "offer")
OFFER_WITHDRAWN = register("vfu.placements.offer.withdrawn.v1", OfferWithdrawnV1, "offer")
BOOKING_REQUESTED = register("vfu.placements.booking.requested.v1", BookingRequestedV1, "booking")
BOOKING_CONFIRMED = register("vfu.placements.booking.confirmed.v1", BookingConfirmedV1, "booking")
BOOKING_DECLINED = register("vfu.placements.booking.declined.v1", BookingDeclinedV1, "booking")
BOOKING_CANCELLED = register("vfu.placements.booking.cancelled.v1", BookingCancelledV1, "booking")
BOOKING_AGREEMENT_ENDED = register(
    "vfu.placements.booking.agreement_ended.v1", BookingAgreementEndedV1, "booking"
)
PLACEMENT_STARTED = register("vfu.placements.placement.started.v1", PlacementStartedV1, "booking")
PLACEMENT_COMPLETED = register(
    "vfu.placements.placement.completed.v1", PlacementCompletedV1, "booking"
)
UNIT_REGISTERED = register("vfu.placements.unit.registered.v1", UnitRegisteredV1, "unit")
UNIT_CHANGED = register("vfu.placements.unit.changed.v1", UnitChangedV1, "unit")
SUPERVISOR_ASSIGNED = register(
    "vfu.placements.supervision.assigned.v1", SupervisorAssignedV1, "supervision"
)
SUPERVISOR_RELEASED = register(
    "vfu.placements.supervision.released.v1", SupervisorReleasedV1, "supervision"
)
