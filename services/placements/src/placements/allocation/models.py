"""The ``allocation_runs`` table: each run of a round's allocation, with its input.

A run stores the input snapshot it solved (JSON: offers, lines, pairs, quotas, policy)
and its digest, so a published allocation can be recomputed and checked, and a preview
whose input has changed since is refused at publication. At most one run of a round is
running and at most one is published: partial unique indexes, so two coordinators
pressing the button at once get one run and one 409 on both databases.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    Uuid,
    text,
)
from vfu_common.db import UtcDateTime, one_of
from vfu_common.rows import row_of

from placements.models import metadata
from placements.vocabularies import RUN_STATUSES

allocation_runs = Table(
    "allocation_runs",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("round_id", Uuid, ForeignKey("planning_rounds.id"), nullable=False),
    Column("policy_version", Integer, nullable=False),
    Column("seed", BigInteger, nullable=False),
    Column("status", String(16), nullable=False),
    Column("input_digest", String(64), nullable=False),
    Column("input_snapshot", Text, nullable=False),
    # The solver's answer, byte-identical for the same input (no timings in it).
    Column("result", Text, nullable=True),
    # Timings, fill ratios, fairness: derived, may differ between recomputations in time.
    Column("report", Text, nullable=True),
    Column("error", String(500), nullable=True),
    Column("started_by", String(255), nullable=False),
    Column("started_at", UtcDateTime, nullable=False),
    # A run still "running" after this is taken to have died with its process.
    Column("deadline_at", UtcDateTime, nullable=False),
    Column("finished_at", UtcDateTime, nullable=True),
    Column("published_at", UtcDateTime, nullable=True),
    Column("published_by", String(255), nullable=True),
    Column("version", Integer, nullable=False),
    CheckConstraint(one_of("status", RUN_STATUSES), name="status_known"),
    CheckConstraint(
        "status IN ('running', 'failed') OR result IS NOT NULL", name="result_when_solved"
    ),
    CheckConstraint(
        "(status = 'published') = (published_at IS NOT NULL)", name="published_when_dated"
    ),
    Index("ix_allocation_runs_round", "round_id", "id"),
    Index(
        "uq_allocation_runs_one_running",
        "round_id",
        unique=True,
        sqlite_where=text("status = 'running'"),
        postgresql_where=text("status = 'running'"),
    ),
    Index(
        "uq_allocation_runs_one_published",
        "round_id",
        unique=True,
        sqlite_where=text("status = 'published'"),
        postgresql_where=text("status = 'published'"),
    ),
)


@row_of(allocation_runs)
@dataclass(frozen=True)
class AllocationRun:
    """One row of ``allocation_runs``."""

    id: uuid.UUID
    round_id: uuid.UUID
    policy_version: int
    seed: int
    status: str
    input_digest: str
    input_snapshot: str
    result: str | None
    report: str | None
    error: str | None
    started_by: str
    started_at: datetime
    deadline_at: datetime
    finished_at: datetime | None
    published_at: datetime | None
    published_by: str | None
    version: int
