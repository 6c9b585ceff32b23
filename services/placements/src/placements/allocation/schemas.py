"""The API's view of allocation runs and their explanations."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from placements.vocabularies import RunStatus

Reason = Literal["served", "no_matching_offer", "quota_ceiling", "fair_share"]


class PlacesOut(BaseModel):
    """Places of one demand line on one offer."""

    demand_line_id: uuid.UUID
    offer_id: uuid.UUID
    places: int


class LineExplanation(BaseModel):
    """What a demand line got and, for what it did not, the deciding reason."""

    line_id: uuid.UUID
    university_id: uuid.UUID
    tier: str
    students: int
    allocated: int
    reason: Reason
    explanation: str


class RunOut(BaseModel):
    """One allocation run of a round."""

    id: uuid.UUID
    round_id: uuid.UUID
    status: RunStatus
    policy_version: int
    seed: int
    input_digest: str = Field(description="SHA-256 of the stored input snapshot")
    places: list[PlacesOut] = Field(description="The caller's own lines' places (all: coordinator)")
    report: dict[str, Any] | None = Field(
        description="Fill per university and tier, Jain's index, unmet demand, the solver's "
        "status, gap and runtime (the coordinator's; None for others and unsolved runs)"
    )
    error: str | None
    started_at: datetime
    finished_at: datetime | None
    published_at: datetime | None
    version: int


class RunCheck(BaseModel):
    """A run recomputed from its stored snapshot: the same bytes, or not."""

    run_id: uuid.UUID
    input_digest: str
    identical: bool
