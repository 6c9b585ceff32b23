"""Events of the term's planning rounds, published by the placements service: a round
opened, its policy published, a dated gate passed, universities' demand lines."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Literal

from pydantic import Field

from vfu_common.events.contracts.registry import EventPayload, register

RoundMode = Literal["demand_first", "offer_first"]
# The dated gates of a round, in the order a term runs through them.
RoundGate = Literal[
    "demand_due",
    "offers_due",
    "allocation",
    "answers",
    "answers_outside_county",
    "names_due",
    "lock",
]
FairnessBasis = Literal["demand", "admitted_students"]
DemandLineStatus = Literal["active", "withdrawn"]


class RoundScopeV1(EventPayload):
    """What a round covers: offers of these providers, at these units or in these
    municipalities (any one suffices)."""

    provider_ids: list[uuid.UUID] = Field(default_factory=list)
    unit_ids: list[uuid.UUID] = Field(default_factory=list)
    municipality_codes: list[str] = Field(default_factory=list)


class RoundGatesV1(EventPayload):
    """The date of each gate; what is due by a gate may be done through its date."""

    demand_due: date
    offers_due: date
    allocation: date
    answers: date
    answers_outside_county: date
    names_due: date
    lock: date


class RoundV1(EventPayload):
    """A planning round's state."""

    round_id: uuid.UUID
    owner_id: uuid.UUID = Field(description="The coordinating organisation")
    term: str = Field(pattern=r"^\d{4}-(HT|VT)$")
    title: str
    mode: RoundMode
    scope: RoundScopeV1
    gates: RoundGatesV1
    policy_version: int


class RoundOpenedV1(RoundV1):
    """A coordinator (or a provider for its own units) opened a round."""


class PolicyTierV1(EventPayload):
    """A priority tier: its universities are served before those of later tiers."""

    name: str
    university_ids: list[uuid.UUID] = Field(default_factory=list)


class RoundPolicyV1(EventPayload):
    """The published policy allocation applies, in order: tiers, quota floors, the fair
    split of what is short, then places filled, then distance; ties by the seed."""

    tiers: list[PolicyTierV1]
    default_tier: str = Field(description="The tier of a university no tier names")
    fairness_basis: FairnessBasis
    admitted_students: dict[str, int] = Field(
        default_factory=dict, description="Admitted students per university id"
    )
    seed: int


class RoundPolicyPublishedV1(EventPayload):
    """A new version of the round's policy was published."""

    round_id: uuid.UUID
    version: int
    policy: RoundPolicyV1


class RoundGatePassedV1(EventPayload):
    """The clock passed one of the round's gates (announced by the lifecycle)."""

    round_id: uuid.UUID
    term: str
    gate: RoundGate
    date: date


class DemandLineV1(EventPayload):
    """A university's demand line's full state."""

    demand_line_id: uuid.UUID
    round_id: uuid.UUID
    university_id: uuid.UUID
    profession_code: str
    programme_code: str
    course_code: str
    course_instance: str | None = None
    start_date: date
    end_date: date
    students: int
    care_settings: list[str] = Field(default_factory=list)
    municipality_codes: list[str] = Field(default_factory=list)
    county_codes: list[str] = Field(default_factory=list)
    max_distance_km: int | None = None
    accepts_other_municipality: bool
    accepts_other_weeks: bool
    status: DemandLineStatus


class DemandSubmittedV1(DemandLineV1):
    """A university submitted a demand line."""


class DemandChangedV1(DemandLineV1):
    """A university changed a demand line before demand was due."""


class DemandWithdrawnV1(DemandLineV1):
    """A university withdrew a demand line before demand was due."""


class AllocationLineV1(EventPayload):
    """What one demand line got: its university's own business, and the coordinator's."""

    demand_line_id: uuid.UUID
    university_id: uuid.UUID
    students: int
    allocated: int


class AllocationPublishedV1(EventPayload):
    """A round's allocation was published: its bookings exist, confirmed, in the same
    transaction. The run's input digest names the snapshot it was computed from."""

    round_id: uuid.UUID
    run_id: uuid.UUID
    term: str
    policy_version: int
    seed: int
    input_digest: str
    bookings: int = Field(description="Bookings made, one per (line, offer) given places")
    places: int
    lines: list[AllocationLineV1]


ROUND_OPENED = register("vfu.placements.round.opened.v1", RoundOpenedV1, "round")
ROUND_POLICY_PUBLISHED = register(
    "vfu.placements.round.policy_published.v1", RoundPolicyPublishedV1, "round"
)
ROUND_GATE_PASSED = register("vfu.placements.round.gate_passed.v1", RoundGatePassedV1, "round")
DEMAND_SUBMITTED = register("vfu.placements.demand.submitted.v1", DemandSubmittedV1, "demand_line")
DEMAND_CHANGED = register("vfu.placements.demand.changed.v1", DemandChangedV1, "demand_line")
DEMAND_WITHDRAWN = register("vfu.placements.demand.withdrawn.v1", DemandWithdrawnV1, "demand_line")
ALLOCATION_PUBLISHED = register(
    "vfu.placements.allocation.published.v1", AllocationPublishedV1, "allocation_run"
)
