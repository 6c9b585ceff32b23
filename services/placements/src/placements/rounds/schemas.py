"""Request and response bodies of the planning-round endpoints.

Rules between fields are validators on the field at fault, listed under ``x-rules`` so a
client generating requests from the OpenAPI knows them: gates out of order, a policy's
default tier that no tier defines, a fairness basis without its data.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Final

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
)
from pydantic_core import PydanticCustomError
from vfu_common.events.contracts import FairnessBasis, RoundGate, RoundMode
from vfu_common.input_rules import NOT_BLANK, cross_field_rules
from vfu_domain.codes import MunicipalityCode

from placements.offers.schemas import Term

MAX_SCOPE: Final = 500
MAX_TIERS: Final = 10
MAX_TIER_MEMBERS: Final = 200

Title = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200), NOT_BLANK
]
TierName = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64), NOT_BLANK
]


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Scope(_Input):
    """What the round covers: offers of these providers, at these units or in these
    municipalities. At least one entry."""

    model_config = ConfigDict(
        json_schema_extra=cross_field_rules(empty_scope="the scope names at least one entry")
    )

    provider_ids: list[uuid.UUID] = Field(default_factory=list, max_length=MAX_SCOPE)
    unit_ids: list[uuid.UUID] = Field(default_factory=list, max_length=MAX_SCOPE)
    municipality_codes: list[MunicipalityCode] = Field(
        default_factory=list,
        max_length=MAX_SCOPE,
        validate_default=True,  # left out, it still checks that the scope is not empty
    )

    @field_validator("municipality_codes")
    @classmethod
    def _not_empty(cls, value: list[str], info: ValidationInfo) -> list[str]:
        if not (value or info.data.get("provider_ids") or info.data.get("unit_ids")):
            raise PydanticCustomError(
                "empty_scope", "name at least one provider, unit or municipality"
            )
        return value

    def entries(self) -> list[tuple[str, str]]:
        """(kind, ref) of every entry, duplicates dropped, in a stable order."""
        found = {("provider", str(ref)) for ref in self.provider_ids}
        found |= {("unit", str(ref)) for ref in self.unit_ids}
        found |= {("municipality", code) for code in self.municipality_codes}
        return sorted(found)


class Gates(_Input):
    """The date of each gate. Demand and offers are due before allocation (in either
    order), then answers, answers outside the county, names due and the lock follow."""

    model_config = ConfigDict(
        json_schema_extra=cross_field_rules(
            gates_out_of_order="each gate from allocation on lies on or after the one before"
        )
    )

    demand_due: date
    offers_due: date
    allocation: date
    answers: date
    answers_outside_county: date
    names_due: date
    lock: date

    @field_validator("allocation")
    @classmethod
    def _after_dues(cls, value: date, info: ValidationInfo) -> date:
        for earlier in ("demand_due", "offers_due"):
            due = info.data.get(earlier)
            if due is not None and value < due:
                raise _out_of_order(earlier, due)
        return value

    @field_validator("answers", "answers_outside_county", "names_due", "lock")
    @classmethod
    def _after_previous(cls, value: date, info: ValidationInfo) -> date:
        names = list(cls.model_fields)
        previous = names[names.index(str(info.field_name)) - 1]
        before = info.data.get(previous)
        if before is not None and value < before:
            raise _out_of_order(previous, before)
        return value

    def of(self, gate: RoundGate) -> date:
        """The date of ``gate``."""
        value: date = getattr(self, gate)
        return value


def _out_of_order(previous: str, day: date) -> PydanticCustomError:
    return PydanticCustomError(
        "gates_out_of_order",
        "lies before {previous} on {day}",
        {"previous": previous, "day": str(day)},
    )


class Tier(_Input):
    """A priority tier and the universities in it."""

    name: TierName
    university_ids: list[uuid.UUID] = Field(default_factory=list, max_length=MAX_TIER_MEMBERS)


class Policy(_Input):
    """How allocation decides, in order: tiers (first tier first), quota floors, a fair
    split of what is short (max-min fill ratio within a tier, weighted by demand or by
    admitted students), then places filled, then distance. Ties are broken by ``seed``."""

    model_config = ConfigDict(
        json_schema_extra=cross_field_rules(
            tier_names_repeated="tier names are unique",
            university_in_two_tiers="a university is in one tier at most",
            undefined_tier="default_tier names one of the tiers",
            admitted_students_missing=(
                "fairness_basis admitted_students needs admitted_students for every "
                "university a tier names"
            ),
        )
    )

    tiers: list[Tier] = Field(min_length=1, max_length=MAX_TIERS)
    default_tier: TierName = Field(description="The tier of a university no tier names")
    fairness_basis: FairnessBasis = "demand"
    admitted_students: dict[uuid.UUID, Annotated[int, Field(ge=0, le=1_000_000)]] = Field(
        default_factory=dict,
        validate_default=True,  # left out, it is still checked against fairness_basis
        max_length=MAX_TIER_MEMBERS,
        description="Admitted students per university (fairness_basis admitted_students)",
    )
    seed: int = Field(
        default=0, ge=0, le=2**53, description="Breaks ties; published with the result"
    )

    @field_validator("tiers")
    @classmethod
    def _tiers_distinct(cls, value: list[Tier]) -> list[Tier]:
        names = [tier.name for tier in value]
        if len(set(names)) != len(names):
            raise PydanticCustomError("tier_names_repeated", "two tiers have the same name")
        members = [u for tier in value for u in tier.university_ids]
        if len(set(members)) != len(members):
            raise PydanticCustomError(
                "university_in_two_tiers", "a university is named in more than one tier"
            )
        return value

    @field_validator("default_tier")
    @classmethod
    def _tier_defined(cls, value: str, info: ValidationInfo) -> str:
        tiers = info.data.get("tiers")
        if tiers is not None and value not in {tier.name for tier in tiers}:
            raise PydanticCustomError("undefined_tier", "no tier is named {name}", {"name": value})
        return value

    @field_validator("admitted_students")
    @classmethod
    def _basis_has_data(
        cls, value: dict[uuid.UUID, int], info: ValidationInfo
    ) -> dict[uuid.UUID, int]:
        if info.data.get("fairness_basis") != "admitted_students":
            return value
        named = {u for tier in info.data.get("tiers") or [] for u in tier.university_ids}
        missing = sorted(str(u) for u in named - set(value))
        if missing or not value:
            raise PydanticCustomError(
                "admitted_students_missing",
                "fairness by admitted students needs them for {missing}",
                {"missing": ", ".join(missing) or "every university"},
            )
        return value


class RoundCreate(_Input):
    """A new planning round."""

    term: Term
    title: Title
    mode: RoundMode = "demand_first"
    scope: Scope
    gates: Gates
    policy: Policy
    owner_id: uuid.UUID | None = Field(
        default=None, description="The coordinating organisation (admins only; others: own)"
    )


class PolicyOut(Policy):
    """A published version of a round's policy."""

    model_config = ConfigDict(extra="ignore", json_schema_extra=None)

    version: int
    published_at: datetime


class RoundOut(BaseModel):
    """A planning round as every university, provider and coordinator sees it."""

    id: uuid.UUID
    owner_id: uuid.UUID
    term: str
    title: str
    mode: RoundMode
    scope: Scope
    gates: Gates
    gates_passed: list[RoundGate] = Field(description="Gates whose date lies before today")
    next_gate: RoundGate | None = Field(description="The next gate on or after today")
    policy: PolicyOut
    version: int
    created_at: datetime
    updated_at: datetime
