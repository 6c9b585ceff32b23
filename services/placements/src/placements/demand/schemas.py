"""Request and response bodies of a round's demand lines.

``DemandFields`` holds every rule on a line. It validates POST, each row of a bulk
import, and a stored line with a PATCH merged in, so no rule exists twice. A period is
given as dates or as ISO weeks (Monday of the first to Friday of the last); the line
always stores and answers dates. Whether the period lies in the round's term is the
service's check, since the term is the round's.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Any, Final, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
)
from pydantic_core import PydanticCustomError
from vfu_common.events.contracts import DemandLineStatus
from vfu_common.input_rules import cross_field_rules, never_null
from vfu_domain.codes import CountyCode, MunicipalityCode, ProfessionCode

from placements.demand.models import MAX_STUDENTS
from placements.imports.schemas import ImportFieldError
from placements.offers.schemas import ProgrammeCode
from placements.vocabularies import CareSetting

MAX_AREAS: Final = 50
ISO_WEEK_PATTERN: Final = r"^\d{4}-W(0[1-9]|[1-4]\d|5[0-3])$"

CourseCode = Annotated[
    str,
    StringConstraints(pattern=r"^[A-Z0-9]{2,10}$"),
    Field(description="The course code in Ladok", examples=["3SJ201"]),
]
CourseInstance = Annotated[
    str,
    StringConstraints(pattern=r"^[A-Za-z0-9-]{1,20}$"),
    Field(description="The course instance (kurstillfälle)", examples=["HT27-1"]),
]
IsoWeek = Annotated[str, StringConstraints(pattern=ISO_WEEK_PATTERN), Field(examples=["2027-W36"])]
Students = Annotated[int, Field(ge=1, le=MAX_STUDENTS, description="Students to place")]

_DEMAND_RULES: Final = cross_field_rules(
    period_required="a period: start_date and end_date, or first_week and last_week",
    period_given_twice="dates or weeks, not both",
    end_before_start="the period does not end before it starts",
    week_does_not_exist="the ISO week exists in its year (week 53 only in long years)",
)


def _monday(week: str) -> date:
    year, number = int(week[:4]), int(week[6:])
    try:
        return date.fromisocalendar(year, number, 1)
    except ValueError as exc:
        raise PydanticCustomError(
            "week_does_not_exist", "{week} does not exist", {"week": week}
        ) from exc


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DemandFields(_Input):
    """A demand line. Field order matters: validators read the fields before them."""

    model_config = ConfigDict(json_schema_extra=_DEMAND_RULES)

    profession_code: ProfessionCode
    programme_code: ProgrammeCode
    course_code: CourseCode
    course_instance: CourseInstance | None = None
    first_week: IsoWeek | None = Field(default=None, description="Instead of start_date")
    last_week: IsoWeek | None = Field(default=None, description="Instead of end_date")
    start_date: date | None = Field(default=None, validate_default=True)
    end_date: date | None = Field(default=None, validate_default=True)
    students: Students
    care_settings: list[CareSetting] = Field(
        default_factory=list, max_length=20, description="Wanted care settings (any, if none)"
    )
    municipality_codes: list[MunicipalityCode] = Field(
        default_factory=list, max_length=MAX_AREAS, description="Wanted municipalities"
    )
    county_codes: list[CountyCode] = Field(
        default_factory=list, max_length=MAX_AREAS, description="Wanted counties"
    )
    max_distance_km: int | None = Field(
        default=None, ge=1, le=2000, description="At most this far from the campus"
    )
    accepts_other_municipality: bool = Field(
        default=False, description="A place in another municipality would do"
    )
    accepts_other_weeks: bool = Field(default=False, description="Other weeks would do")

    @field_validator("start_date")
    @classmethod
    def _start(cls, value: date | None, info: ValidationInfo) -> date | None:
        return _end_point(value, info.data.get("first_week"), "first_week", first=True)

    @field_validator("end_date")
    @classmethod
    def _end(cls, value: date | None, info: ValidationInfo) -> date | None:
        end = _end_point(value, info.data.get("last_week"), "last_week", first=False)
        start = info.data.get("start_date")
        if start is not None and end is not None and end < start:
            raise PydanticCustomError("end_before_start", "the period ends before it starts")
        return end

    def period(self) -> tuple[date, date]:
        """The first and last day (the validators fill both from dates or weeks)."""
        if self.start_date is None or self.end_date is None:  # pragma: no cover
            raise ValueError("a validated demand line always has its period")
        return self.start_date, self.end_date


def _end_point(day: date | None, week: str | None, week_field: str, *, first: bool) -> date:
    if day is not None and week is not None:
        raise PydanticCustomError(
            "period_given_twice",
            "give this date or {week_field}, not both",
            {"week_field": week_field},
        )
    if day is not None:
        return day
    if week is None:
        raise PydanticCustomError(
            "period_required", "give this date or {week_field}", {"week_field": week_field}
        )
    monday = _monday(week)
    return monday if first else date.fromordinal(monday.toordinal() + 4)


class DemandCreate(DemandFields):
    """A new demand line."""

    university_id: uuid.UUID | None = Field(
        default=None, description="The university asking (admins only; universities: own)"
    )


class DemandUpdate(_Input):
    """A change to a line: only the fields sent change; the result is checked as a whole."""

    course_instance: CourseInstance | None = None
    start_date: date | None = never_null()
    end_date: date | None = never_null()
    students: Students | None = never_null()
    care_settings: list[CareSetting] | None = never_null(max_length=20)
    municipality_codes: list[MunicipalityCode] | None = never_null(max_length=MAX_AREAS)
    county_codes: list[CountyCode] | None = never_null(max_length=MAX_AREAS)
    max_distance_km: int | None = Field(default=None, ge=1, le=2000)
    accepts_other_municipality: bool | None = never_null()
    accepts_other_weeks: bool | None = never_null()

    def changes(self) -> dict[str, Any]:
        """The fields the client sent."""
        return self.model_dump(include=self.model_fields_set)


class DemandLineOut(BaseModel):
    """A demand line as its university and the round's coordinator see it."""

    id: uuid.UUID
    round_id: uuid.UUID
    university_id: uuid.UUID
    profession_code: str
    programme_code: str
    course_code: str
    course_instance: str | None
    start_date: date
    end_date: date
    students: int
    care_settings: list[str]
    municipality_codes: list[str]
    county_codes: list[str]
    max_distance_km: int | None
    accepts_other_municipality: bool
    accepts_other_weeks: bool
    status: DemandLineStatus
    version: int
    created_at: datetime
    updated_at: datetime


class DemandTotal(BaseModel):
    """What the round's active lines ask for one profession and programme, all
    universities together (never per university)."""

    profession_code: str
    programme_code: str
    lines: int
    students: int
    universities: int
    own_students: int = Field(description="Of these, the caller's own (0 for non-universities)")


class DemandSummary(BaseModel):
    """The round's aggregate demand."""

    round_id: uuid.UUID
    totals: list[DemandTotal]


class DemandImportRow(BaseModel):
    """The outcome of one data row (row numbers are spreadsheet rows; the header is 1)."""

    row: int
    status: Literal["ok", "error"]
    errors: list[ImportFieldError] = Field(default_factory=list)
    demand_line_id: uuid.UUID | None = None


class DemandImportReport(BaseModel):
    """What a demand import did: every row's outcome and the counts."""

    rows: list[DemandImportRow]
    created: int = Field(description="Lines stored (0 on a dry run)")
    errors: int = Field(description="Rows with errors (0, or nothing would be stored)")
    dry_run: bool
