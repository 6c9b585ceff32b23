"""Planning rounds: the round and its dated gates, its scope, its policy versions, the
gates the clock has passed, and universities' demand lines.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from vfu_common.db import UtcDateTime

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

_GATES = (
    "demand_due",
    "offers_due",
    "allocation",
    "answers",
    "answers_outside_county",
    "names_due",
    "lock",
)


# Frozen: the DDL as this revision ran it, not a call into today's table declarations.
def upgrade() -> None:
    op.create_table(
        "planning_rounds",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("owner_id", sa.Uuid(), nullable=False),
        sa.Column("term", sa.String(7), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("mode", sa.String(16), nullable=False),
        *(sa.Column(f"{gate}_on", sa.Date(), nullable=False) for gate in _GATES),
        sa.Column("policy_version", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.CheckConstraint(
            "mode IN ('demand_first', 'offer_first')", name=op.f("ck_planning_rounds_mode_known")
        ),
        sa.CheckConstraint(
            "demand_due_on <= allocation_on AND offers_due_on <= allocation_on"
            " AND allocation_on <= answers_on AND answers_on <= answers_outside_county_on"
            " AND answers_outside_county_on <= names_due_on AND names_due_on <= lock_on",
            name=op.f("ck_planning_rounds_gates_in_order"),
        ),
        sa.CheckConstraint(
            "policy_version >= 1", name=op.f("ck_planning_rounds_policy_version_positive")
        ),
        sa.PrimaryKeyConstraint("id", name="pk_planning_rounds"),
    )
    op.create_index("ix_planning_rounds_term", "planning_rounds", ["term", "id"])
    op.create_table(
        "planning_round_scope",
        sa.Column("round_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("ref", sa.String(64), nullable=False),
        sa.CheckConstraint(
            "kind IN ('provider', 'unit', 'municipality')",
            name=op.f("ck_planning_round_scope_kind_known"),
        ),
        sa.ForeignKeyConstraint(
            ["round_id"],
            ["planning_rounds.id"],
            name="fk_planning_round_scope_round_id_planning_rounds",
        ),
        sa.PrimaryKeyConstraint("round_id", "kind", "ref", name="pk_planning_round_scope"),
    )
    op.create_table(
        "planning_round_policies",
        sa.Column("round_id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("published_at", UtcDateTime(), nullable=False),
        sa.Column("published_by", sa.String(200), nullable=False),
        sa.ForeignKeyConstraint(
            ["round_id"],
            ["planning_rounds.id"],
            name="fk_planning_round_policies_round_id_planning_rounds",
        ),
        sa.PrimaryKeyConstraint("round_id", "version", name="pk_planning_round_policies"),
    )
    op.create_table(
        "planning_round_gates_passed",
        sa.Column("round_id", sa.Uuid(), nullable=False),
        sa.Column("gate", sa.String(32), nullable=False),
        sa.Column("gate_date", sa.Date(), nullable=False),
        sa.Column("announced_at", UtcDateTime(), nullable=False),
        sa.CheckConstraint(
            "gate IN (" + ", ".join(f"'{gate}'" for gate in _GATES) + ")",
            name=op.f("ck_planning_round_gates_passed_gate_known"),
        ),
        sa.ForeignKeyConstraint(
            ["round_id"],
            ["planning_rounds.id"],
            name="fk_planning_round_gates_passed_round_id_planning_rounds",
        ),
        sa.PrimaryKeyConstraint("round_id", "gate", name="pk_planning_round_gates_passed"),
    )
    op.create_table(
        "demand_lines",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("round_id", sa.Uuid(), nullable=False),
        sa.Column("university_id", sa.Uuid(), nullable=False),
        sa.Column("profession_code", sa.String(64), nullable=False),
        sa.Column("programme_code", sa.String(64), nullable=False),
        sa.Column("course_code", sa.String(16), nullable=False),
        sa.Column("course_instance", sa.String(20), nullable=True),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=False),
        sa.Column("students", sa.Integer(), nullable=False),
        sa.Column("care_settings", sa.Text(), nullable=False),
        sa.Column("municipality_codes", sa.Text(), nullable=False),
        sa.Column("county_codes", sa.Text(), nullable=False),
        sa.Column("max_distance_km", sa.Integer(), nullable=True),
        sa.Column("accepts_other_municipality", sa.Boolean(), nullable=False),
        sa.Column("accepts_other_weeks", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.CheckConstraint(
            "students BETWEEN 1 AND 1000", name=op.f("ck_demand_lines_students_in_range")
        ),
        sa.CheckConstraint("end_date >= start_date", name=op.f("ck_demand_lines_period_in_order")),
        sa.CheckConstraint(
            "max_distance_km IS NULL OR max_distance_km > 0",
            name=op.f("ck_demand_lines_distance_positive"),
        ),
        sa.CheckConstraint(
            "status IN ('active', 'withdrawn')", name=op.f("ck_demand_lines_status_known")
        ),
        sa.ForeignKeyConstraint(
            ["round_id"], ["planning_rounds.id"], name="fk_demand_lines_round_id_planning_rounds"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_demand_lines"),
    )
    op.create_index(
        "ix_demand_lines_round_university",
        "demand_lines",
        ["round_id", "university_id", "id"],
    )


def downgrade() -> None:
    op.drop_index("ix_demand_lines_round_university", table_name="demand_lines")
    op.drop_table("demand_lines")
    op.drop_table("planning_round_gates_passed")
    op.drop_table("planning_round_policies")
    op.drop_table("planning_round_scope")
    op.drop_index("ix_planning_rounds_term", table_name="planning_rounds")
    op.drop_table("planning_rounds")
