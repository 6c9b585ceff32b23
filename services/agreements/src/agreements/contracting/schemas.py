"""Request and response bodies of the agreement endpoints."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Final, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)
from pydantic_core import PydanticCustomError
from vfu_common.events.contracts import (
    AgreementStatus,
    AgreementTermsV1,
    AgreementType,
    CompensationRateV1,
    PartyRole,
    QuotaV1,
)
from vfu_common.input_rules import NOT_BLANK, cross_field_rules, never_null
from vfu_domain.codes import MunicipalityCode

Code = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64), NOT_BLANK
]
Sha256 = Annotated[
    str,
    BeforeValidator(lambda v: v.lower() if isinstance(v, str) else v),
    StringConstraints(pattern=r"^[0-9a-f]{64}$"),
    # Upper-case hex is accepted too (lower-cased first), which the schema says.
    Field(json_schema_extra={"pattern": "^[0-9a-fA-F]{64}$"}),
]
MAX_ITEMS = 200


_PERIOD_RULE: Final = {"valid_to_before_start": "valid_to is before valid_from"}
# Checked by the service on a new agreement and on an amendment merged into its version
# (drafting.py), with these problem codes.
_TERMS_RULES: Final = {
    "too_few_parties": "an agreement has 2 or more parties",
    "duplicate_party": "no organisation is listed twice among the parties",
    "quota_not_for_a_university_party": "a quota's university is a party with role university",
    "duplicate_quota": "one quota per university, programme, term and unit",
    "rate_programme_not_in_scope": "a rate's programme_code is one of the agreement's "
    "programmes or professions",
    "rate_party_not_a_party": "a rate's payer and payee are parties",
}


def _period_error() -> PydanticCustomError:
    return PydanticCustomError("valid_to_before_start", _PERIOD_RULE["valid_to_before_start"])


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PartyIn(_Input):
    """A party and the role it has in the agreement (its organisation's kind)."""

    organisation_id: uuid.UUID
    role: PartyRole


class QuotaIn(_Input):
    """Committed volume for a university party, programme and term."""

    university_organisation_id: uuid.UUID
    programme_code: Code
    term: str = Field(pattern=r"^\d{4}-(HT|VT)$", examples=["2027-HT"])
    unit: Literal["places", "student_weeks"]
    amount: int = Field(ge=0, le=1_000_000)
    kind: Literal["floor", "ceiling"] = Field(
        "floor",
        description="floor: committed volume, honoured in allocation; ceiling: the most "
        "the university may book (bookings past it are refused with quota_exceeded)",
    )


class RateIn(_Input):
    """A compensation rate in öre; the programme must be in the agreement's scope."""

    programme_code: Code
    level: Code | None = None
    basis: Literal["per_student_week", "per_term", "fixed"]
    amount_ore: int = Field(ge=0, le=10**12, description="Integer öre (1 SEK = 100 öre)")
    payer_organisation_id: uuid.UUID
    payee_organisation_id: uuid.UUID
    valid_from: date | None = None
    valid_to: date | None = None

    model_config = ConfigDict(json_schema_extra=cross_field_rules(**_PERIOD_RULE))

    @model_validator(mode="after")
    def _range(self) -> RateIn:
        if self.valid_from and self.valid_to and self.valid_to < self.valid_from:
            raise _period_error()
        return self


class DocumentIn(_Input):
    """A document by reference and its SHA-256 (hex)."""

    title: str = Field(min_length=1, max_length=200)
    uri: str = Field(min_length=1, max_length=2000, pattern=r"^https?://")
    sha256: Sha256


class _TermsIn(_Input):
    agreement_type: AgreementType
    title: str = Field(min_length=1, max_length=200)
    programmes: list[Code] = Field(default_factory=list, max_length=MAX_ITEMS)
    professions: list[Code] = Field(default_factory=list, max_length=MAX_ITEMS)
    covered_unit_ids: list[uuid.UUID] = Field(default_factory=list, max_length=MAX_ITEMS)
    covered_municipality_codes: list[MunicipalityCode] = Field(
        default_factory=list, max_length=MAX_ITEMS
    )
    valid_to: date | None = None
    notice_period_months: int | None = Field(default=None, ge=0, le=120)
    auto_renewal_months: int | None = Field(default=None, ge=1, le=120)
    supervision_requirement_level: Code | None = None
    quotas: list[QuotaIn] = Field(default_factory=list, max_length=MAX_ITEMS)
    rates: list[RateIn] = Field(default_factory=list, max_length=MAX_ITEMS)
    documents: list[DocumentIn] = Field(default_factory=list, max_length=MAX_ITEMS)


class AgreementCreate(_TermsIn):
    """A draft agreement. Party rules (2..n, no duplicates, registered) are checked by the
    service so they answer with their own stable codes."""

    parties: list[PartyIn] = Field(max_length=50)
    valid_from: date

    model_config = ConfigDict(json_schema_extra=cross_field_rules(**_PERIOD_RULE, **_TERMS_RULES))

    @model_validator(mode="after")
    def _range(self) -> AgreementCreate:
        if self.valid_to is not None and self.valid_to < self.valid_from:
            raise _period_error()
        return self


class AgreementAmend(_Input):
    """A new version from ``effective_from``; fields left out keep the current version's value."""

    effective_from: date
    agreement_type: AgreementType | None = never_null()
    title: str | None = never_null(min_length=1, max_length=200)
    programmes: list[Code] | None = never_null(max_length=MAX_ITEMS)
    professions: list[Code] | None = never_null(max_length=MAX_ITEMS)
    covered_unit_ids: list[uuid.UUID] | None = never_null(max_length=MAX_ITEMS)
    covered_municipality_codes: list[MunicipalityCode] | None = never_null(max_length=MAX_ITEMS)
    valid_to: date | None = None
    notice_period_months: int | None = Field(default=None, ge=0, le=120)
    auto_renewal_months: int | None = Field(default=None, ge=1, le=120)
    supervision_requirement_level: Code | None = None
    quotas: list[QuotaIn] | None = never_null(max_length=MAX_ITEMS)
    rates: list[RateIn] | None = never_null(max_length=MAX_ITEMS)
    documents: list[DocumentIn] | None = never_null(max_length=MAX_ITEMS)

    model_config = ConfigDict(
        json_schema_extra=cross_field_rules(
            **_TERMS_RULES, valid_to_before_start="valid_to is before effective_from"
        )
    )

    @model_validator(mode="after")
    def _range(self) -> AgreementAmend:
        if self.valid_to is not None and self.valid_to < self.effective_from:
            raise PydanticCustomError("valid_to_before_start", "valid_to is before effective_from")
        return self


class PartyOut(BaseModel):
    """A party and its signature."""

    model_config = ConfigDict(from_attributes=True)

    organisation_id: uuid.UUID
    role: PartyRole
    signed_at: datetime | None
    signed_by: str | None


class DocumentOut(BaseModel):
    """A referenced document."""

    model_config = ConfigDict(from_attributes=True)

    title: str
    uri: str
    sha256: str


class AgreementOut(BaseModel):
    """One version of an agreement with its full terms."""

    id: uuid.UUID
    series_id: uuid.UUID
    version_number: int
    supersedes_agreement_id: uuid.UUID | None
    agreement_type: AgreementType
    title: str
    status: AgreementStatus
    parties: list[PartyOut]
    programmes: list[str]
    professions: list[str]
    covered_unit_ids: list[uuid.UUID]
    covered_municipality_codes: list[str]
    valid_from: date
    valid_to: date | None
    notice_period_months: int | None
    auto_renewal_months: int | None
    effective_until: date | None
    supervision_requirement_level: str | None
    notice_given_on: date | None
    notice_given_by_organisation_id: uuid.UUID | None
    quotas: list[QuotaV1]
    rates: list[CompensationRateV1]
    documents: list[DocumentOut]
    version: int
    created_at: datetime
    updated_at: datetime


class CoverageOut(BaseModel):
    """Whether an active agreement covers the placement, and which (or why not)."""

    covered: bool
    reason: str = Field(description="covered, or a stable refusal code")
    detail: str
    agreement: AgreementTermsV1 | None = None
