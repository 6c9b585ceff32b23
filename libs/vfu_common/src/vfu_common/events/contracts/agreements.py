"""Events the agreements service publishes: organisations and agreements."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Literal

from pydantic import Field

from vfu_common.events.contracts.registry import EventPayload, register

OrganisationKind = Literal[
    "region", "municipality", "university", "private_provider", "coordinating_body"
]


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
    """Committed placement volume for a university, programme and term.

    A ``floor`` is volume the provider commits to: allocation honours it, bookings count
    against it and are never refused by it. A ``ceiling`` is the most the university may
    book: the placements service refuses a booking that would pass it. Events published
    before quotas had a kind carry none and mean a floor.
    """

    university_organisation_id: uuid.UUID
    programme_code: str
    term: str = Field(pattern=r"^\d{4}-(HT|VT)$")
    unit: Literal["places", "student_weeks"]
    amount: int = Field(ge=0)
    kind: Literal["floor", "ceiling"] = "floor"


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
