"""Query parameters and response shapes of the reports.

Reports carry ids, professions, counts and dates only: coordinators read them, and they
may not see supervisors' personal fields.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field


class ReportParams(BaseModel):
    """Which provider's report, on which day, as query parameters."""

    model_config = ConfigDict(extra="forbid")

    provider_id: uuid.UUID | None = Field(
        default=None,
        description="The provider to report on; providers may only name themselves and "
        "default to themselves; coordinators and admins default to every provider",
    )
    on: date | None = Field(
        default=None, description="The day agreements and offers are judged on (default today)"
    )


class QualificationCounts(BaseModel):
    """Active supervisors and how many are qualified (shares are null without supervisors)."""

    supervisors: int
    qualified: int = Field(description="Qualified against their profession's default level")
    qualified_share: float | None
    qualified_for_agreements: int = Field(
        description="Qualified against the stricter of the default and every covering "
        "agreement's supervision requirement for their profession"
    )
    qualified_for_agreements_share: float | None


class UnitQualificationOut(QualificationCounts):
    """One unit's supervisors (a supervisor working at two units counts at both)."""

    unit_id: uuid.UUID
    unit_name: str | None = Field(description="Null while no unit event has named the unit")


class LapsedSupervisorOut(BaseModel):
    """An active supervisor who was qualified and no longer is."""

    supervisor_id: uuid.UUID
    profession_code: str
    unit_ids: list[uuid.UUID]
    lapsed_at: datetime


class UnknownLevelOut(BaseModel):
    """A covering agreement's requirement level the platform cannot compare (not applied)."""

    agreement_id: uuid.UUID
    level: str


class ProviderQualificationOut(QualificationCounts):
    """One provider's supervisors, per unit, with lapsed qualifications."""

    provider_id: uuid.UUID
    units: list[UnitQualificationOut]
    lapsed: list[LapsedSupervisorOut]
    unknown_requirement_levels: list[UnknownLevelOut]


class QualificationReportOut(BaseModel):
    """The qualification report of every provider in the caller's scope."""

    on: date
    providers: list[ProviderQualificationOut]


class DemandRowOut(BaseModel):
    """A unit and profession whose offers need more qualified supervisors than it has."""

    provider_id: uuid.UUID
    unit_id: uuid.UUID
    unit_name: str | None
    profession_code: str
    term: str = Field(description="The unit's busiest term for the profession")
    needed: int
    qualified_available: int
    shortfall: int


class TrainingDemandOut(BaseModel):
    """Units short of qualified supervisors, largest shortfall first."""

    on: date
    students_per_supervisor: dict[str, int] = Field(
        description="The assumption behind `needed`: students one supervisor takes per model"
    )
    rows: list[DemandRowOut]
