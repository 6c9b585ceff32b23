"""The tables of planning rounds: the round and its dated gates, what it covers, its
published policy versions, and the gates the clock has passed.

The gates' order is a CHECK: demand and offers are both due before allocation (in either
order: an offer-first round collects offers first), then answers, answers to universities
outside the county, names and the lock follow in that order. A gate's passage is a row
keyed by round and gate, so two schedulers ticking at once announce it once.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Final, get_args

from sqlalchemy import (
    CheckConstraint,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    Uuid,
)
from vfu_common.db import UtcDateTime, one_of
from vfu_common.events.contracts import RoundGate, RoundMode
from vfu_common.rows import row_of

from placements.models import metadata

ROUND_MODES: Final = get_args(RoundMode)
SCOPE_KINDS: Final = ("provider", "unit", "municipality")
# Each gate and its column, in the order a term runs through them.
GATES: Final[tuple[RoundGate, ...]] = get_args(RoundGate)
GATE_COLUMNS: Final = {gate: f"{gate}_on" for gate in GATES}

_ORDER: Final = (
    "demand_due_on <= allocation_on AND offers_due_on <= allocation_on"
    " AND allocation_on <= answers_on AND answers_on <= answers_outside_county_on"
    " AND answers_outside_county_on <= names_due_on AND names_due_on <= lock_on"
)

planning_rounds = Table(
    "planning_rounds",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("owner_id", Uuid, nullable=False),
    Column("term", String(7), nullable=False),
    Column("title", String(200), nullable=False),
    Column("mode", String(16), nullable=False),
    *(Column(column, Date, nullable=False) for column in GATE_COLUMNS.values()),
    Column("policy_version", Integer, nullable=False),
    Column("version", Integer, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    CheckConstraint(one_of("mode", ROUND_MODES), name="mode_known"),
    CheckConstraint(_ORDER, name="gates_in_order"),
    CheckConstraint("policy_version >= 1", name="policy_version_positive"),
)
Index("ix_planning_rounds_term", planning_rounds.c.term, planning_rounds.c.id)

round_scope = Table(
    "planning_round_scope",
    metadata,
    Column("round_id", Uuid, ForeignKey("planning_rounds.id"), primary_key=True),
    Column("kind", String(16), primary_key=True),
    Column("ref", String(64), primary_key=True),
    CheckConstraint(one_of("kind", SCOPE_KINDS), name="kind_known"),
)

round_policies = Table(
    "planning_round_policies",
    metadata,
    Column("round_id", Uuid, ForeignKey("planning_rounds.id"), primary_key=True),
    Column("version", Integer, primary_key=True),
    # The policy as published (RoundPolicyV1 JSON): a version is never changed.
    Column("body", Text, nullable=False),
    Column("published_at", UtcDateTime, nullable=False),
    Column("published_by", String(200), nullable=False),
)

gates_passed = Table(
    "planning_round_gates_passed",
    metadata,
    Column("round_id", Uuid, ForeignKey("planning_rounds.id"), primary_key=True),
    Column("gate", String(32), primary_key=True),
    Column("gate_date", Date, nullable=False),
    Column("announced_at", UtcDateTime, nullable=False),
    CheckConstraint(one_of("gate", GATES), name="gate_known"),
)


@row_of(planning_rounds)
@dataclass(frozen=True)
class PlanningRound:
    """One row of ``planning_rounds``."""

    id: uuid.UUID
    owner_id: uuid.UUID
    term: str
    title: str
    mode: str
    demand_due_on: date
    offers_due_on: date
    allocation_on: date
    answers_on: date
    answers_outside_county_on: date
    names_due_on: date
    lock_on: date
    policy_version: int
    version: int
    created_at: datetime
    updated_at: datetime

    def gate_date(self, gate: RoundGate) -> date:
        """The date of ``gate``."""
        value: date = getattr(self, GATE_COLUMNS[gate])
        return value
