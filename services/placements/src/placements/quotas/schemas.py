"""Quota use as the API shows it."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from placements.offers.schemas import Term
from placements.quotas.models import QuotaUse


class QuotaFilters(BaseModel):
    """Query filters of the quota list."""

    model_config = ConfigDict(extra="forbid")

    agreement_id: uuid.UUID | None = Field(
        default=None, description="Any version of the agreement (its series' quotas)"
    )
    university_id: uuid.UUID | None = None
    term: Term | None = None


class QuotaUseOut(BaseModel):
    """One quota of an agreement series and how much of it is booked."""

    agreement_series_id: uuid.UUID
    agreement_id: uuid.UUID = Field(description="The version whose terms set kind and amount")
    university_id: uuid.UUID
    programme_code: str = Field(description="Programme or profession code, as the agreement")
    term: str
    unit: Literal["places", "student_weeks"]
    kind: Literal["floor", "ceiling"] = Field(
        description="ceiling: bookings past it are refused (quota_exceeded); floor: "
        "committed volume, counted and honoured in allocation"
    )
    amount: int
    used: int = Field(
        description="Places (or student-weeks) held or confirmed by bookings under the "
        "agreement; declined and cancelled bookings give theirs back"
    )
    remaining: int | None = Field(description="What a ceiling still allows; null for a floor")
    updated_at: datetime

    @classmethod
    def from_row(cls, row: QuotaUse) -> QuotaUseOut:
        """The API view of a ``quota_use`` row."""
        return cls(
            agreement_series_id=row.series_id,
            agreement_id=row.agreement_id,
            university_id=row.university_id,
            programme_code=row.programme_code,
            term=row.term,
            unit=row.unit,
            kind=row.kind,
            amount=row.amount,
            used=row.used,
            remaining=row.remaining,
            updated_at=row.updated_at,
        )
