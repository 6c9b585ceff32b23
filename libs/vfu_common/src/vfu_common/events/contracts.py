"""Typed event contracts: one pydantic model per event type and major version.

Rules: a v1 payload may only gain optional fields; a breaking change is a
new ``v2`` type. ``tests/contracts`` snapshots the JSON Schema of every payload and fails
on a non-additive change. Producers build payloads with these models; consumers parse
with them, ignoring unknown fields so producers can add fields first.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field

OrganisationKind = Literal[
    "region", "municipality", "university", "private_provider", "coordinating_body"
]


class EventPayload(BaseModel):
    """Base of every payload: consumers ignore fields they do not know yet."""

    model_config = ConfigDict(extra="ignore", frozen=True)


class OrganisationRegisteredV1(EventPayload):
    """An organisation (party) was registered in the agreements service."""

    organisation_id: uuid.UUID
    organisation_number: str
    kind: OrganisationKind
    name: str
    municipality_code: str | None = None
    county_code: str | None = Field(default=None, description="Two-digit SCB county code")
    hsa_id: str | None = None
    healthcare_regions: list[str] = Field(
        default_factory=list,
        description="Sjukvårdsregioner the organisation belongs to (two for Region Halland)",
    )


class OrganisationChangedV1(OrganisationRegisteredV1):
    """An organisation's details changed; carries the full new state, like registration."""


AgreementType = Literal["tripartite_vfu", "bilateral_vfu", "alf", "tua", "vulf", "other"]
AgreementStatus = Literal[
    "draft", "pending_signatures", "active", "notice_given", "terminated", "expired", "abandoned"
]
PartyRole = Literal["university", "region", "municipality", "private_provider", "coordinating_body"]
PROVIDER_ROLES: frozenset[str] = frozenset({"region", "municipality", "private_provider"})


class AgreementPartyV1(EventPayload):
    """A party to an agreement and whether it has signed."""

    organisation_id: uuid.UUID
    role: PartyRole
    signed_at: datetime | None = None


class QuotaV1(EventPayload):
    """Committed placement volume for a university, programme and term."""

    university_organisation_id: uuid.UUID
    programme_code: str
    term: str = Field(pattern=r"^\d{4}-(HT|VT)$")
    unit: Literal["places", "student_weeks"]
    amount: int = Field(ge=0)


class CompensationRateV1(EventPayload):
    """What the payer pays the payee, in öre, for a programme (and level)."""

    programme_code: str
    level: str | None = None
    basis: Literal["per_student_week", "per_term", "fixed"]
    amount_ore: int = Field(ge=0)
    payer_organisation_id: uuid.UUID
    payee_organisation_id: uuid.UUID
    valid_from: date | None = None
    valid_to: date | None = None


class AgreementTermsV1(EventPayload):
    """Everything a consumer needs to know about an agreement version.

    Every agreement event carries the full terms, so no consumer ever calls back.
    ``effective_until`` is the last day the agreement covers placements: the earliest of
    ``valid_to``, the termination date after notice, and the day before a superseding
    amendment takes effect (None: open-ended).
    """

    agreement_id: uuid.UUID
    series_id: uuid.UUID = Field(description="Id of the first version; shared by amendments")
    version_number: int = Field(ge=1, description="1 for the original, n for the nth amendment")
    supersedes_agreement_id: uuid.UUID | None = None
    agreement_type: AgreementType
    title: str
    status: AgreementStatus
    parties: list[AgreementPartyV1]
    programmes: list[str] = Field(default_factory=list)
    professions: list[str] = Field(default_factory=list)
    covered_unit_ids: list[uuid.UUID] = Field(default_factory=list)
    covered_municipality_codes: list[str] = Field(default_factory=list)
    valid_from: date
    valid_to: date | None = None
    notice_period_months: int | None = None
    auto_renewal_months: int | None = None
    effective_until: date | None = None
    supervision_requirement_level: str | None = None
    quotas: list[QuotaV1] = Field(default_factory=list)
    rates: list[CompensationRateV1] = Field(default_factory=list)


class AgreementProposedV1(AgreementTermsV1):
    """A draft was sent to its parties for signature."""


class AgreementSignedV1(AgreementTermsV1):
    """One party signed."""

    signer_organisation_id: uuid.UUID


class AgreementActivatedV1(AgreementTermsV1):
    """Every party signed and valid_from arrived: the agreement now covers placements."""


class AgreementAmendedV1(AgreementTermsV1):
    """A new version (these terms) supersedes ``supersedes_agreement_id`` from valid_from."""


class AgreementNoticeGivenV1(AgreementTermsV1):
    """A party gave notice; the agreement ends on ``effective_until``."""

    notice_given_by_organisation_id: uuid.UUID
    notice_given_on: date


class AgreementTerminatedV1(AgreementTermsV1):
    """The agreement ended after notice."""


class AgreementExpiredV1(AgreementTermsV1):
    """The agreement reached valid_to."""


class AgreementExpiryUpcomingV1(AgreementTermsV1):
    """Reminder: the agreement expires in ``days_left`` days."""

    days_left: int = Field(ge=0)


class AgreementRenewedV1(AgreementTermsV1):
    """An auto-renewing agreement reached valid_to without notice: valid_to moved on."""

    previous_valid_to: date


class AgreementAbandonedV1(AgreementTermsV1):
    """The agreement was abandoned before it became active."""


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


class OfferPublishedV1(OfferV1):
    """The offer became visible to universities (and portals)."""


class OfferUpdatedV1(OfferV1):
    """A published offer's terms or counts changed."""


class OfferClosedV1(OfferV1):
    """The offer takes no more bookings; existing bookings stand."""


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


TrainingLevel = Literal["introduction", "basic", "course_7_5hp", "advanced"]
TrainingRecordStatus = Literal[
    "registered", "in_progress", "completed", "verified", "failed", "withdrawn"
]


class SupervisorV1(EventPayload):
    """A supervisor as other services may know them: ids, profession and qualification only.

    Name, HSA-id and roles stay in the supervisors service.
    """

    supervisor_id: uuid.UUID
    employer_id: uuid.UUID
    profession_code: str
    unit_ids: list[uuid.UUID] = Field(
        default_factory=list, description="Units the supervisor works at (empty: none named)"
    )
    max_concurrent_students: int = Field(ge=1)
    active: bool = Field(description="False once the employer deregistered the supervisor")
    licence_verified: bool
    level_achieved: TrainingLevel | None = Field(
        default=None, description="Highest level of completed or verified supervisor training"
    )
    required_level: TrainingLevel = Field(
        description="The default requirement level applied for the profession"
    )
    qualified: bool = Field(description="Qualified against required_level")


class SupervisorRegisteredV1(SupervisorV1):
    """An employer registered a supervisor."""


class SupervisorChangedV1(SupervisorV1):
    """A supervisor's employment facts (units, capacity, licence, active) changed."""


class QualificationChangedV1(SupervisorV1):
    """The supervisor's qualification (``qualified`` or ``level_achieved``) changed."""

    previous_qualified: bool
    previous_level_achieved: TrainingLevel | None = None
    reason: str = Field(description="Stable code: why the supervisor is or is not qualified")


class TrainingRecordV1(EventPayload):
    """A supervisor's training record (course, status, dates): no personal fields."""

    record_id: uuid.UUID
    supervisor_id: uuid.UUID
    employer_id: uuid.UUID
    course_id: uuid.UUID
    issuer_id: uuid.UUID = Field(description="The organisation (usually a university) running it")
    course_level: TrainingLevel
    status: TrainingRecordStatus
    completed_on: date | None = None
    verified_at: datetime | None = None


class TrainingRecordedV1(TrainingRecordV1):
    """A training record was created or its status changed."""


class TrainingVerifiedV1(TrainingRecordV1):
    """The issuing university verified a completed record."""


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


@dataclass(frozen=True)
class EventContract:
    """Binds an event type (= NATS subject) to its payload model and aggregate type."""

    event_type: str
    payload: type[EventPayload]
    aggregate_type: str

    @property
    def stream_service(self) -> str:
        """The producing service, the second token of ``vfu.<service>.<...>``."""
        return self.event_type.split(".")[1]


P = TypeVar("P", bound=EventPayload)

_REGISTRY: dict[str, EventContract] = {}


def register(event_type: str, payload: type[EventPayload], aggregate_type: str) -> EventContract:
    """Add a contract to the registry; a type may be registered only once."""
    if event_type in _REGISTRY:
        raise ValueError(f"event type already registered: {event_type}")
    parts = event_type.split(".")
    if (
        len(parts) != 5
        or parts[0] != "vfu"
        or not parts[4].startswith("v")
        or event_type.lower() != event_type
    ):
        raise ValueError(
            f"event type must be vfu.<service>.<aggregate>.<event>.v<major>: {event_type}"
        )
    contract = EventContract(event_type, payload, aggregate_type)
    _REGISTRY[event_type] = contract
    return contract


def contract_for(event_type: str) -> EventContract:
    """Look up a contract; KeyError for an unknown type."""
    return _REGISTRY[event_type]


def platform_contracts() -> list[EventContract]:
    """The contracts defined in this module: what the platform publishes.

    Tests register contracts of their own; those are left out of the published AsyncAPI
    document and the schema snapshots.
    """
    return [c for c in all_contracts() if c.payload.__module__ == __name__]


def all_contracts() -> list[EventContract]:
    """Every registered contract, sorted by type."""
    return sorted(_REGISTRY.values(), key=lambda c: c.event_type)


ORGANISATION_REGISTERED = register(
    "vfu.agreements.organisation.registered.v1", OrganisationRegisteredV1, "organisation"
)
ORGANISATION_CHANGED = register(
    "vfu.agreements.organisation.changed.v1", OrganisationChangedV1, "organisation"
)
AGREEMENT_PROPOSED = register(
    "vfu.agreements.agreement.proposed.v1", AgreementProposedV1, "agreement"
)
AGREEMENT_SIGNED = register("vfu.agreements.agreement.signed.v1", AgreementSignedV1, "agreement")
AGREEMENT_ACTIVATED = register(
    "vfu.agreements.agreement.activated.v1", AgreementActivatedV1, "agreement"
)
AGREEMENT_AMENDED = register("vfu.agreements.agreement.amended.v1", AgreementAmendedV1, "agreement")
AGREEMENT_NOTICE_GIVEN = register(
    "vfu.agreements.agreement.notice_given.v1", AgreementNoticeGivenV1, "agreement"
)
AGREEMENT_TERMINATED = register(
    "vfu.agreements.agreement.terminated.v1", AgreementTerminatedV1, "agreement"
)
AGREEMENT_EXPIRED = register("vfu.agreements.agreement.expired.v1", AgreementExpiredV1, "agreement")
AGREEMENT_EXPIRY_UPCOMING = register(
    "vfu.agreements.agreement.expiry_upcoming.v1", AgreementExpiryUpcomingV1, "agreement"
)
AGREEMENT_RENEWED = register("vfu.agreements.agreement.renewed.v1", AgreementRenewedV1, "agreement")
AGREEMENT_ABANDONED = register(
    "vfu.agreements.agreement.abandoned.v1", AgreementAbandonedV1, "agreement"
)
OFFER_PUBLISHED = register("vfu.placements.offer.published.v1", OfferPublishedV1, "offer")
OFFER_UPDATED = register("vfu.placements.offer.updated.v1", OfferUpdatedV1, "offer")
OFFER_CLOSED = register("vfu.placements.offer.closed.v1", OfferClosedV1, "offer")
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
SUPERVISOR_REGISTERED = register(
    "vfu.supervisors.supervisor.registered.v1", SupervisorRegisteredV1, "supervisor"
)
SUPERVISOR_CHANGED = register(
    "vfu.supervisors.supervisor.changed.v1", SupervisorChangedV1, "supervisor"
)
QUALIFICATION_CHANGED = register(
    "vfu.supervisors.qualification.changed.v1", QualificationChangedV1, "supervisor"
)
TRAINING_RECORDED = register(
    "vfu.supervisors.training.recorded.v1", TrainingRecordedV1, "training_record"
)
TRAINING_VERIFIED = register(
    "vfu.supervisors.training.verified.v1", TrainingVerifiedV1, "training_record"
)
