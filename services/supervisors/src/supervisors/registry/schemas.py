"""Request and response bodies of the supervisor registry.

Single-value rules live in ``Annotated`` types shared by the create and update bodies;
the rule spanning two fields (a licence date only with a verified licence) lives in
``SupervisorFields``, which validates a new supervisor and, in the service, a stored one
with an update merged in. Whether a profession code is a licensed profession is checked
by the service, so the problem carries its own code (``unknown_profession``).

Two views go out: ``SupervisorOut`` with the personal fields (name, HSA-id, employer
reference, roles, licence date) for the employer, a university the supervisor was
assigned to, and admins; ``SupervisorSummary`` without them for coordinators.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Any, Final

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
)
from pydantic_core import PydanticCustomError
from vfu_common.events.contracts import TrainingLevel
from vfu_common.input_rules import NOT_BLANK, cross_field_rules
from vfu_domain.codes import PROFESSION_CODES
from vfu_domain.identifiers import HsaId

from supervisors.vocabularies import SupervisorRole

MAX_UNITS = 50
MAX_CONCURRENT_STUDENTS = 20


def _distinct_units(value: list[uuid.UUID]) -> list[uuid.UUID]:
    return sorted(set(value))


def _distinct_roles(value: list[str]) -> list[str]:
    return sorted(set(value))


Name = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200), NOT_BLANK
]
EmployerReference = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=64),
    NOT_BLANK,
    Field(description="The employer's own id for the person (e.g. staff number)"),
]
ProfessionCode = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=40),
    # Stated as an enum here but checked by the service, whose refusal has its own problem
    # code (``unknown_profession``) rather than a validation error.
    Field(
        description="Licensed healthcare profession (legitimationsyrke)",
        examples=["sjukskoterska"],
        json_schema_extra={"enum": PROFESSION_CODES},
    ),
]
UnitIds = Annotated[list[uuid.UUID], Field(max_length=MAX_UNITS), AfterValidator(_distinct_units)]
Roles = Annotated[list[SupervisorRole], AfterValidator(_distinct_roles)]
Capacity = Annotated[int, Field(ge=1, le=MAX_CONCURRENT_STUDENTS)]


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid")


# Checked on a new supervisor and on a supervisor after a change is merged into it.
_SUPERVISOR_RULES: Final = cross_field_rules(
    licence_date_without_licence="licence_verified_on only with licence_verified true"
)


class SupervisorFields(_Input):
    """What an employer states about a supervisor."""

    model_config = ConfigDict(json_schema_extra=_SUPERVISOR_RULES)

    name: Name
    hsa_id: HsaId | None = None
    employer_reference: EmployerReference | None = None
    licence_verified: bool = False
    # Validated even when absent, so the pair is always checked together.
    licence_verified_on: date | None = Field(default=None, validate_default=True)
    unit_ids: UnitIds = Field(default_factory=list)
    roles: Roles = Field(default_factory=lambda: list[SupervisorRole](["handledare"]))
    max_concurrent_students: Capacity = 1

    @field_validator("licence_verified_on")
    @classmethod
    def _date_needs_licence(cls, value: date | None, info: ValidationInfo) -> date | None:
        if value is not None and info.data.get("licence_verified") is False:
            raise PydanticCustomError(
                "licence_date_without_licence",
                "licence_verified_on may only be given when licence_verified is true",
            )
        return value


class SupervisorCreate(SupervisorFields):
    """A new supervisor; ``employer_id`` is the caller's organisation unless an admin sets it."""

    profession_code: ProfessionCode
    employer_id: uuid.UUID | None = Field(
        default=None, description="Only for admins; providers register their own staff"
    )


class SupervisorUpdate(_Input):
    """Fields to change; absent fields keep their value, ``null`` clears an optional one.

    Setting ``licence_verified`` to false without a ``licence_verified_on`` clears the date.
    """

    model_config = ConfigDict(json_schema_extra=_SUPERVISOR_RULES)

    name: Name | None = None
    hsa_id: HsaId | None = None
    employer_reference: EmployerReference | None = None
    licence_verified: bool | None = None
    licence_verified_on: date | None = None
    unit_ids: UnitIds | None = None
    roles: Roles | None = None
    max_concurrent_students: Capacity | None = None

    def changes(self) -> dict[str, Any]:
        """The fields the client sent (a revoked licence drops its date unless one is sent)."""
        sent = self.model_dump(exclude_unset=True)
        if sent.get("licence_verified") is False and "licence_verified_on" not in sent:
            sent["licence_verified_on"] = None
        for required in (
            "name",
            "licence_verified",
            "unit_ids",
            "roles",
            "max_concurrent_students",
        ):
            if required in sent and sent[required] is None:
                # null for a required field is not "clear it"; keep the stored value.
                del sent[required]
        return sent


class SupervisionHistory(BaseModel):
    """What the supervisor supervised to completion (from placements' release events)."""

    placements_supervised: int
    student_weeks: int


class SupervisorSummary(BaseModel):
    """A supervisor without personal fields (what coordinators see)."""

    id: uuid.UUID
    employer_id: uuid.UUID
    profession_code: str
    unit_ids: list[uuid.UUID]
    max_concurrent_students: int
    active: bool
    licence_verified: bool
    level_achieved: TrainingLevel | None
    required_level: TrainingLevel
    qualified: bool
    qualification_reason: str = Field(description="Stable code: why qualified or not")
    qualified_since: datetime | None
    qualification_lapsed_at: datetime | None = Field(
        description="Set when the supervisor stopped being qualified; cleared on requalifying"
    )
    current_students: int = Field(description="Students of the supervisor's active assignments")
    history: SupervisionHistory


class SupervisorOut(SupervisorSummary):
    """A supervisor with personal fields (employer, assigned universities, admins)."""

    name: str
    hsa_id: str | None
    employer_reference: str | None
    roles: list[str]
    licence_verified_on: date | None
    version: int
    created_at: datetime
    updated_at: datetime


# Left to right: a full record validates as SupervisorOut, a summary only as the second.
SupervisorView = SupervisorOut | SupervisorSummary
