"""Allocation runs of planning rounds (input snapshot, result, report); on bookings, the
round a published allocation made it from, and a cancellation's lead time and lateness;
on offers, the day their free places open to every university.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-08
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from vfu_common.db import UtcDateTime

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


# SQLite's batch mode copies capacity_offers to a new table and cannot carry this
# expression index over (it is not reflected): drop it before and make it again after.
_FREE_PLACES_INDEX = "ix_capacity_offers_search_free_places"


def _drop_free_places_index() -> None:
    op.drop_index(_FREE_PLACES_INDEX, table_name="capacity_offers")


def _create_free_places_index() -> None:
    op.create_index(
        _FREE_PLACES_INDEX,
        "capacity_offers",
        [
            "status",
            "profession_code",
            "term",
            sa.literal_column("(places - held_places - confirmed_places)"),
            "id",
        ],
        unique=False,
    )


# Frozen: the DDL as this revision ran it, not a call into today's table declarations.
def upgrade() -> None:
    op.create_table(
        "allocation_runs",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("round_id", sa.Uuid(), nullable=False),
        sa.Column("policy_version", sa.Integer(), nullable=False),
        sa.Column("seed", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("input_digest", sa.String(64), nullable=False),
        sa.Column("input_snapshot", sa.Text(), nullable=False),
        sa.Column("result", sa.Text(), nullable=True),
        sa.Column("report", sa.Text(), nullable=True),
        sa.Column("error", sa.String(500), nullable=True),
        sa.Column("started_by", sa.String(255), nullable=False),
        sa.Column("started_at", UtcDateTime(), nullable=False),
        sa.Column("deadline_at", UtcDateTime(), nullable=False),
        sa.Column("finished_at", UtcDateTime(), nullable=True),
        sa.Column("published_at", UtcDateTime(), nullable=True),
        sa.Column("published_by", sa.String(255), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "status IN ('running', 'preview', 'failed', 'published')",
            name=op.f("ck_allocation_runs_status_known"),
        ),
        sa.CheckConstraint(
            "status IN ('running', 'failed') OR result IS NOT NULL",
            name=op.f("ck_allocation_runs_result_when_solved"),
        ),
        sa.CheckConstraint(
            "(status = 'published') = (published_at IS NOT NULL)",
            name=op.f("ck_allocation_runs_published_when_dated"),
        ),
        sa.ForeignKeyConstraint(
            ["round_id"],
            ["planning_rounds.id"],
            name=op.f("fk_allocation_runs_round_id_planning_rounds"),
        ),
        sa.PrimaryKeyConstraint("id", name="pk_allocation_runs"),
    )
    op.create_index("ix_allocation_runs_round", "allocation_runs", ["round_id", "id"])
    for name, status in (("one_running", "running"), ("one_published", "published")):
        op.create_index(
            f"uq_allocation_runs_{name}",
            "allocation_runs",
            ["round_id"],
            unique=True,
            sqlite_where=sa.text(f"status = '{status}'"),
            postgresql_where=sa.text(f"status = '{status}'"),
        )
    op.add_column("bookings", sa.Column("round_id", sa.Uuid(), nullable=True))
    op.add_column("bookings", sa.Column("cancel_lead_days", sa.Integer(), nullable=True))
    op.add_column("bookings", sa.Column("cancelled_late", sa.Boolean(), nullable=True))
    _drop_free_places_index()
    with op.batch_alter_table("capacity_offers") as batch:
        batch.add_column(sa.Column("release_on", sa.Date(), nullable=True))
        batch.add_column(sa.Column("released_at", UtcDateTime(), nullable=True))
        batch.create_check_constraint(
            op.f("ck_capacity_offers_released_before_start"),
            "release_on IS NULL OR release_on <= start_date",
        )
    _create_free_places_index()


def downgrade() -> None:
    _drop_free_places_index()
    with op.batch_alter_table("capacity_offers") as batch:
        batch.drop_constraint(op.f("ck_capacity_offers_released_before_start"), type_="check")
        batch.drop_column("released_at")
        batch.drop_column("release_on")
    _create_free_places_index()
    with op.batch_alter_table("bookings") as batch:
        for column in ("cancelled_late", "cancel_lead_days", "round_id"):
            batch.drop_column(column)
    for name in ("one_published", "one_running"):
        op.drop_index(f"uq_allocation_runs_{name}", table_name="allocation_runs")
    op.drop_index("ix_allocation_runs_round", table_name="allocation_runs")
    op.drop_table("allocation_runs")
