"""Supervisors, their units, training courses and training records; idempotency keys.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from vfu_common.db import UtcDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


# Frozen: the DDL as this revision ran it, not a call into today's table declarations.
def upgrade() -> None:
    op.create_table(
        "supervisors",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("employer_id", sa.Uuid(), nullable=False),
        sa.Column("employer_reference", sa.String(length=64), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("hsa_id", sa.String(length=31), nullable=True),
        sa.Column("profession_code", sa.String(length=40), nullable=False),
        sa.Column("licence_verified", sa.Boolean(), nullable=False),
        sa.Column("licence_verified_on", sa.Date(), nullable=True),
        sa.Column("roles", sa.Text(), nullable=False),
        sa.Column("max_concurrent_students", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("level_achieved", sa.String(length=20), nullable=True),
        sa.Column("required_level", sa.String(length=20), nullable=False),
        sa.Column("qualified", sa.Boolean(), nullable=False),
        sa.Column("qualification_reason", sa.String(length=40), nullable=False),
        sa.Column("qualified_since", UtcDateTime(), nullable=True),
        sa.Column("qualification_lapsed_at", UtcDateTime(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.CheckConstraint(
            "level_achieved IS NULL OR level_achieved IN ('introduction', 'basic', 'course_7_5hp', 'advanced')",
            name=op.f("ck_supervisors_level_achieved_known"),
        ),
        sa.CheckConstraint(
            "required_level IN ('introduction', 'basic', 'course_7_5hp', 'advanced')",
            name=op.f("ck_supervisors_required_level_known"),
        ),
        sa.CheckConstraint(
            "licence_verified OR licence_verified_on IS NULL",
            name=op.f("ck_supervisors_licence_date_only_when_verified"),
        ),
        sa.CheckConstraint(
            "max_concurrent_students >= 1", name=op.f("ck_supervisors_capacity_positive")
        ),
        sa.CheckConstraint("version >= 1", name=op.f("ck_supervisors_version_positive")),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint(
            "employer_id", "employer_reference", name=op.f("uq_supervisors_employer_reference")
        ),
        sa.UniqueConstraint("hsa_id", name=op.f("uq_supervisors_hsa_id")),
    )
    op.create_table(
        "supervisor_units",
        sa.Column("supervisor_id", sa.Uuid(), nullable=False),
        sa.Column("unit_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["supervisor_id"],
            ["supervisors.id"],
            name=op.f("fk_supervisor_units_supervisor"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("supervisor_id", "unit_id"),
    )
    op.create_index("ix_supervisors_employer", "supervisors", ["employer_id", "id"], unique=False)
    op.create_index("ix_supervisor_units_unit", "supervisor_units", ["unit_id"], unique=False)
    op.create_table(
        "training_courses",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("provider_id", sa.Uuid(), nullable=False),
        sa.Column("course_code", sa.String(length=20), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("credits_hp", sa.Numeric(precision=5, scale=1), nullable=True),
        sa.Column("hours", sa.Integer(), nullable=True),
        sa.Column("level", sa.String(length=20), nullable=False),
        sa.Column("delivery", sa.String(length=20), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.CheckConstraint(
            "delivery IN ('campus', 'web', 'module')", name=op.f("ck_training_courses_delivery")
        ),
        sa.CheckConstraint(
            "level IN ('introduction', 'basic', 'course_7_5hp', 'advanced')",
            name=op.f("ck_training_courses_level"),
        ),
        sa.CheckConstraint(
            "(credits_hp IS NULL OR credits_hp > 0) AND (hours IS NULL OR hours > 0)",
            name=op.f("ck_training_courses_extent_positive"),
        ),
        sa.CheckConstraint(
            "credits_hp IS NOT NULL OR hours IS NOT NULL",
            name=op.f("ck_training_courses_credits_or_hours"),
        ),
        sa.CheckConstraint("version >= 1", name=op.f("ck_training_courses_version_positive")),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("provider_id", "course_code", name=op.f("uq_training_courses_code")),
    )
    op.create_table(
        "training_records",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("supervisor_id", sa.Uuid(), nullable=False),
        sa.Column("course_id", sa.Uuid(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("completed_on", sa.Date(), nullable=True),
        sa.Column("verified_at", UtcDateTime(), nullable=True),
        sa.Column("reported_by_organisation_id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.CheckConstraint(
            "(completed_on IS NOT NULL) = (status IN ('completed', 'verified'))",
            name=op.f("ck_training_records_completed_on_iff_completed"),
        ),
        sa.CheckConstraint(
            "(verified_at IS NOT NULL) = (status = 'verified')",
            name=op.f("ck_training_records_verified_at_iff_verified"),
        ),
        sa.CheckConstraint(
            "status IN ('registered', 'in_progress', 'completed', 'verified', 'failed', 'withdrawn')",
            name=op.f("ck_training_records_status"),
        ),
        sa.CheckConstraint("version >= 1", name=op.f("ck_training_records_version_positive")),
        sa.ForeignKeyConstraint(
            ["course_id"], ["training_courses.id"], name=op.f("fk_training_records_course")
        ),
        sa.ForeignKeyConstraint(
            ["supervisor_id"],
            ["supervisors.id"],
            name=op.f("fk_training_records_supervisor"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("supervisor_id", "course_id", name=op.f("uq_training_records_once")),
    )
    op.create_index(
        "ix_training_courses_provider",
        "training_courses",
        ["provider_id", "course_code"],
        unique=False,
    )
    op.create_index("ix_training_records_course", "training_records", ["course_id"], unique=False)
    op.create_table(
        "idempotency_keys",
        sa.Column("client", sa.String(length=255), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("operation", sa.String(length=100), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("response_body", sa.Text(), nullable=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("client", "key"),
    )


def downgrade() -> None:
    op.drop_table("idempotency_keys")
    op.drop_table("training_records")
    op.drop_table("training_courses")
    op.drop_table("supervisor_units")
    op.drop_table("supervisors")
