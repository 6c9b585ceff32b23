"""Request and response shapes of the coverage endpoint."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, model_validator
from vfu_domain.coverage import CoverageDecision, CoverageQuery


class CoverageParams(BaseModel):
    """The placement to check, as query parameters."""

    model_config = ConfigDict(extra="forbid")

    university_id: uuid.UUID
    provider_id: uuid.UUID
    programme_code: str = Field(min_length=1, max_length=50)
    start: date
    end: date
    unit_id: uuid.UUID | None = None
    municipality_code: str | None = Field(default=None, pattern=r"^\d{4}$")

    @model_validator(mode="after")
    def _end_not_before_start(self) -> Self:
        # A request error (422), not a refusal: the rule itself raises on it.
        if self.end < self.start:
            raise ValueError("end must not be before start")
        return self

    def to_query(self) -> CoverageQuery:
        """The rule's query."""
        return CoverageQuery(**self.model_dump())


class ProjectedCoverageOut(BaseModel):
    """The decision: the covering agreement version, or a stable refusal reason."""

    covered: bool
    reason: str = Field(description="`covered`, or why not, e.g. `agreement_not_active`")
    detail: str
    agreement_id: uuid.UUID | None = None
    agreement_version_number: int | None = None

    @classmethod
    def from_decision(cls, decision: CoverageDecision) -> ProjectedCoverageOut:
        """Flatten a rule decision for JSON."""
        agreement = decision.agreement
        return cls(
            covered=decision.covered,
            reason=decision.reason,
            detail=decision.detail,
            agreement_id=agreement.agreement_id if agreement else None,
            agreement_version_number=agreement.version_number if agreement else None,
        )
