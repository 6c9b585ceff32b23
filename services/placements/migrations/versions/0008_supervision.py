"""The supervisor gate: the supervisor projection and supervisor assignments.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from vfu_common.db import UtcDateTime

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


# Frozen: the DDL as this revision ran it, not a call into today's table declarations.
def upgrade() -> None:
    op.create_table(
        "supervisor_projection",
        sa.Column("supervisor_id", sa.Uuid(), nullable=False),
        sa.Column("employer_id", sa.Uuid(), nullable=False),
        sa.Column("profession_code", sa.String(length=64), nullable=False),
        sa.Column("max_concurrent_students", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("licence_verified", sa.Boolean(), nullable=False),
        sa.Column("level_achieved", sa.String(length=32), nullable=True),
        sa.Column("required_level", sa.String(length=32), nullable=False),
        sa.Column("qualified", sa.Boolean(), nullable=False),
        sa.Column("aggregate_version", sa.Integer(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.CheckConstraint(
            "level_achieved IS NULL OR level_achieved IN ('introduction', 'basic', 'course_7_5hp', 'advanced')",
            name=op.f("ck_supervisor_projection_level_known"),
        ),
        sa.CheckConstraint(
            "required_level IN ('introduction', 'basic', 'course_7_5hp', 'advanced')",
            name=op.f("ck_supervisor_projection_required_level_known"),
        ),
        sa.CheckConstraint(
            "aggregate_version >= 1", name=op.f("ck_supervisor_projection_version_positive")
        ),
        sa.CheckConstraint(
            "max_concurrent_students >= 1", name=op.f("ck_supervisor_projection_capacity_positive")
        ),
        sa.PrimaryKeyConstraint("supervisor_id"),
    )
    op.create_table(
        "supervisor_projection_units",
        sa.Column("supervisor_id", sa.Uuid(), nullable=False),
        sa.Column("unit_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["supervisor_id"],
            ["supervisor_projection.supervisor_id"],
            name="fk_supervisor_projection_units_supervisor",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("supervisor_id", "unit_id"),
    )
    op.create_table(
        "supervisor_assignments",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("booking_id", sa.Uuid(), nullable=False),
        sa.Column("supervisor_id", sa.Uuid(), nullable=False),
        sa.Column("students", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("release_reason", sa.String(length=32), nullable=True),
        sa.Column("student_weeks", sa.Integer(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.String(length=255), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("released_at", UtcDateTime(), nullable=True),
        sa.CheckConstraint(
            "(status = 'active' AND release_reason IS NULL AND released_at IS NULL AND student_weeks IS NULL) OR (status = 'released' AND release_reason IS NOT NULL AND released_at IS NOT NULL AND student_weeks IS NOT NULL)",
            name=op.f("ck_supervisor_assignments_release_consistent"),
        ),
        sa.CheckConstraint(
            "release_reason IS NULL OR release_reason IN ('released', 'booking_completed', 'booking_cancelled', 'supervisor_deregistered')",
            name=op.f("ck_supervisor_assignments_release_reason_known"),
        ),
        sa.CheckConstraint(
            "status IN ('active', 'released')", name=op.f("ck_supervisor_assignments_status_known")
        ),
        sa.CheckConstraint(
            "student_weeks IS NULL OR student_weeks >= 0",
            name=op.f("ck_supervisor_assignments_student_weeks_positive"),
        ),
        sa.CheckConstraint(
            "students >= 1", name=op.f("ck_supervisor_assignments_students_positive")
        ),
        sa.CheckConstraint("version >= 1", name=op.f("ck_supervisor_assignments_version_positive")),
        sa.ForeignKeyConstraint(
            ["booking_id"], ["bookings.id"], name="fk_supervisor_assignments_booking_id_bookings"
        ),
        sa.ForeignKeyConstraint(
            ["supervisor_id"],
            ["supervisor_projection.supervisor_id"],
            name="fk_supervisor_assignments_supervisor",
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_supervisor_assignments_supervisor",
        "supervisor_assignments",
        ["supervisor_id", "status"],
        unique=False,
    )
    op.create_index(
        "ix_supervisor_assignments_booking",
        "supervisor_assignments",
        ["booking_id", "status"],
        unique=False,
    )
    op.create_index(
        "uq_supervisor_assignments_active_supervisor_booking",
        "supervisor_assignments",
        ["supervisor_id", "booking_id"],
        unique=True,
        sqlite_where=sa.text("status = 'active'"),
        postgresql_where=sa.text("status = 'active'"),
    )


def downgrade() -> None:
    op.drop_table("supervisor_assignments")
    op.drop_table("supervisor_projection_units")
    op.drop_table("supervisor_projection")
