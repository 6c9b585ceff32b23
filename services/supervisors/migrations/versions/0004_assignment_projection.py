"""The supervisor assignment projection (from placements' supervision events).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from vfu_common.db import UtcDateTime

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


# Frozen: the DDL as this revision ran it, not a call into today's table declarations.
def upgrade() -> None:
    op.create_table(
        "supervisor_assignments",
        sa.Column("assignment_id", sa.Uuid(), nullable=False),
        sa.Column("supervisor_id", sa.Uuid(), nullable=False),
        sa.Column("booking_id", sa.Uuid(), nullable=False),
        sa.Column("university_id", sa.Uuid(), nullable=False),
        sa.Column("provider_id", sa.Uuid(), nullable=False),
        sa.Column("unit_id", sa.Uuid(), nullable=False),
        sa.Column("profession_code", sa.String(length=40), nullable=False),
        sa.Column("supervision_model", sa.String(length=20), nullable=False),
        sa.Column("students", sa.Integer(), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("release_reason", sa.String(length=40), nullable=True),
        sa.Column("student_weeks", sa.Integer(), nullable=True),
        sa.Column("aggregate_version", sa.Integer(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.CheckConstraint(
            "(release_reason IS NOT NULL) = (status = 'released')",
            name=op.f("ck_supervisor_assignments_reason_iff_released"),
        ),
        sa.CheckConstraint(
            "status IN ('active', 'released')", name=op.f("ck_supervisor_assignments_status")
        ),
        sa.CheckConstraint(
            "student_weeks IS NULL OR student_weeks >= 0",
            name=op.f("ck_supervisor_assignments_student_weeks"),
        ),
        sa.CheckConstraint("students >= 1", name=op.f("ck_supervisor_assignments_students")),
        sa.PrimaryKeyConstraint("assignment_id"),
    )
    op.create_index(
        "ix_supervisor_assignments_supervisor",
        "supervisor_assignments",
        ["supervisor_id", "status"],
        unique=False,
    )
    op.create_index(
        "ix_supervisor_assignments_university",
        "supervisor_assignments",
        ["university_id", "supervisor_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_supervisor_assignments_supervisor", table_name="supervisor_assignments")
    op.drop_index("ix_supervisor_assignments_university", table_name="supervisor_assignments")
    op.drop_table("supervisor_assignments")
