"""Request and response bodies of the course catalogue and the training records.

A training record report names its supervisor in exactly one way (the pseudonymous
``supervisor_id``, an ``hsa_id``, or the employer's own ``employer_reference`` with the
``employer_id``) and its state (a completion needs its date, nothing else has one). Those
rules live in ``RecordFields``, shared by the single report (``TrainingRecordReport``)
and each row of a bulk report (``TrainingRecordImportRow``), so both accept exactly the
same records. Rules spanning several fields name the field to blame in their error
context (``ctx.field``), which the bulk report shows per row.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Final

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError
from vfu_common.events.contracts import TrainingLevel, TrainingRecordStatus
from vfu_common.input_rules import NOT_BLANK, cross_field_rules, never_null
from vfu_domain.identifiers import HsaId
from vfu_domain.swedish_calendar import STOCKHOLM

from supervisors.training.transitions import ReportedStatus
from supervisors.vocabularies import CourseDelivery


def swedish_today() -> date:
    """Today in Sweden: completion dates are Swedish calendar days."""
    return datetime.now(STOCKHOLM).date()


def _not_in_future(value: date) -> date:
    if value > swedish_today():
        raise PydanticCustomError(
            "completed_on_in_future",
            "the completion date {value} is in the future",
            {"value": value},
        )
    return value


CourseCode = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, min_length=1, max_length=20, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$"
    ),
    Field(examples=["3HA100"], description="The running organisation's own course code"),
]
Title = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200), NOT_BLANK
]


def _float_to_decimal(value: Any) -> Any:
    # A JSON number such as 0.30000000000000004 (0.1 * 3 in a client's floating point) means
    # 0.3: a float is read at ten decimals, so the one-decimal rule applies to what was meant.
    return Decimal(str(round(value, 10))) if isinstance(value, float) else value


CreditsHp = Annotated[
    Decimal,
    BeforeValidator(_float_to_decimal),
    Field(gt=0, max_digits=5, decimal_places=1, examples=["7.5"]),
    # Pydantic documents a Decimal as "a number or any string"; this states the rule.
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "number", "exclusiveMinimum": 0, "maximum": 9999.9, "multipleOf": 0.1},
                {"type": "string", "pattern": r"^([1-9][0-9]{0,3}(\.[0-9])?|0\.[1-9])$"},
            ],
            "description": "Credits (högskolepoäng), more than 0, at most one decimal",
            "examples": ["7.5"],
        }
    ),
]
Hours = Annotated[int, Field(gt=0, le=10_000, examples=[16])]
CompletedOn = Annotated[date, AfterValidator(_not_in_future)]
EmployerReference = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64), NOT_BLANK
]


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --- courses -------------------------------------------------------------------------------


# Checked on a new course and on a course after a change is merged into it.
_COURSE_RULES: Final = cross_field_rules(
    course_extent_missing="credits_hp or hours (or both) is given"
)


class CourseFields(_Input):
    """A course's own data; its extent is given in credits (hp), in hours, or both."""

    model_config = ConfigDict(json_schema_extra=_COURSE_RULES)

    course_code: CourseCode
    title: Title
    credits_hp: CreditsHp | None = None
    # Validated even when absent, so a course without any extent is refused here.
    hours: Hours | None = Field(default=None, validate_default=True)
    level: TrainingLevel
    delivery: CourseDelivery

    @field_validator("hours")
    @classmethod
    def _extent_given(cls, value: int | None, info: ValidationInfo) -> int | None:
        if "credits_hp" not in info.data:  # credits_hp itself failed; its error says why
            return value
        if value is None and info.data["credits_hp"] is None:
            raise PydanticCustomError("course_extent_missing", "give credits_hp or hours (or both)")
        return value


class CourseCreate(CourseFields):
    """A new course; run by the caller's organisation unless an admin names ``provider_id``."""

    provider_id: uuid.UUID | None = Field(
        default=None, description="Only for admins; others create courses for themselves"
    )


class CourseUpdate(_Input):
    """Fields to change; absent fields keep their value, ``null`` clears an optional one."""

    model_config = ConfigDict(json_schema_extra=_COURSE_RULES)

    course_code: CourseCode | None = never_null()
    title: Title | None = never_null()
    credits_hp: CreditsHp | None = None
    hours: Hours | None = None
    level: TrainingLevel | None = never_null()
    delivery: CourseDelivery | None = never_null()

    def changes(self) -> dict[str, Any]:
        """The fields the client sent."""
        return self.model_dump(exclude_unset=True)


class CourseOut(BaseModel):
    """A training course (the catalogue is public)."""

    id: uuid.UUID
    provider_id: uuid.UUID = Field(description="The organisation running the course")
    course_code: str
    title: str
    credits_hp: float | None
    hours: int | None
    level: TrainingLevel
    delivery: CourseDelivery
    version: int
    created_at: datetime
    updated_at: datetime


# --- training records ----------------------------------------------------------------------


def _named(values: dict[str, Any], *names: str) -> bool:
    return any(values.get(name) is not None for name in names)


_RECORD_RULES: Final = {
    "completed_on_required": "a completed record has completed_on",
    "completed_on_not_allowed": "only a completed record has completed_on",
    "supervisor_reference_invalid": "the supervisor is named by exactly one of "
    "supervisor_id, hsa_id, or employer_id with employer_reference",
    "supervisor_reference_incomplete": "employer_id and employer_reference go together",
    "completed_on_in_future": "completed_on is not after today (in Sweden)",
}


class RecordFields(_Input):
    """The supervisor (named exactly one way) and the state of a reported record."""

    model_config = ConfigDict(json_schema_extra=cross_field_rules(**_RECORD_RULES))

    supervisor_id: uuid.UUID | None = None
    hsa_id: HsaId | None = None
    employer_id: uuid.UUID | None = None
    employer_reference: EmployerReference | None = None
    status: ReportedStatus = "completed"
    # Validated even when absent, so a completion without its date is refused here.
    completed_on: CompletedOn | None = Field(default=None, validate_default=True)

    @field_validator("completed_on")
    @classmethod
    def _date_iff_completed(cls, value: date | None, info: ValidationInfo) -> date | None:
        status = info.data.get("status")
        if status is None:  # status itself failed; its error says why
            return value
        if status == "completed" and value is None:
            raise PydanticCustomError("completed_on_required", "a completion needs completed_on")
        if status != "completed" and value is not None:
            raise PydanticCustomError(
                "completed_on_not_allowed", "only a completed record has completed_on"
            )
        return value

    @model_validator(mode="before")
    @classmethod
    def _one_supervisor_reference(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        ways = [
            _named(data, "supervisor_id"),
            _named(data, "hsa_id"),
            _named(data, "employer_id", "employer_reference"),
        ]
        if sum(ways) != 1:
            raise PydanticCustomError(
                "supervisor_reference_invalid",
                "name the supervisor by exactly one of supervisor_id, hsa_id, or "
                "employer_id with employer_reference",
                {"field": "supervisor"},
            )
        if ways[2] and not (_named(data, "employer_id") and _named(data, "employer_reference")):
            raise PydanticCustomError(
                "supervisor_reference_incomplete",
                "employer_id and employer_reference go together",
                {"field": "supervisor"},
            )
        return data


class TrainingRecordReport(RecordFields):
    """A university reports a supervisor's training in one of its courses."""

    course_id: uuid.UUID


class TrainingRecordImportRow(RecordFields):
    """One row of a bulk report: the course by id or by the caller's own course code."""

    model_config = ConfigDict(
        json_schema_extra=cross_field_rules(
            **_RECORD_RULES,
            course_reference_invalid="the course is named by exactly one of course_id and "
            "course_code",
        )
    )

    course_id: uuid.UUID | None = None
    course_code: CourseCode | None = None

    @model_validator(mode="before")
    @classmethod
    def _one_course_reference(cls, data: Any) -> Any:
        if isinstance(data, dict) and _named(data, "course_id") == _named(data, "course_code"):
            raise PydanticCustomError(
                "course_reference_invalid",
                "name the course by exactly one of course_id and course_code",
                {"field": "course"},
            )
        return data


class RecordCompletion(_Input):
    """The completion date of a record being completed."""

    completed_on: CompletedOn


class RecordFilters(BaseModel):
    """Query filters of the training record list."""

    supervisor_id: uuid.UUID | None = None
    course_id: uuid.UUID | None = None
    status: TrainingRecordStatus | None = None


class RecordOut(BaseModel):
    """A training record: ids, course, status and dates (no personal fields)."""

    id: uuid.UUID
    supervisor_id: uuid.UUID
    employer_id: uuid.UUID = Field(description="The supervisor's employer")
    course_id: uuid.UUID
    course_code: str
    issuer_id: uuid.UUID = Field(description="The organisation running the course")
    course_level: TrainingLevel
    status: TrainingRecordStatus
    completed_on: date | None
    verified_at: datetime | None
    reported_by_organisation_id: uuid.UUID
    version: int
    created_at: datetime
    updated_at: datetime
