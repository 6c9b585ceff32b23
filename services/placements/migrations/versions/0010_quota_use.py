"""Quotas that hold: each agreement series' quotas and their use.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from vfu_common.db import UtcDateTime

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


# Frozen: the DDL as this revision ran it, not a call into today's table declarations.
def upgrade() -> None:
    op.create_table(
        "quota_use",
        sa.Column("series_id", sa.Uuid(), nullable=False),
        sa.Column("university_id", sa.Uuid(), nullable=False),
        sa.Column("programme_code", sa.String(64), nullable=False),
        sa.Column("term", sa.String(7), nullable=False),
        sa.Column("unit", sa.String(16), nullable=False),
        sa.Column("agreement_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("amount", sa.Integer(), nullable=False),
        sa.Column("used", sa.Integer(), nullable=False),
        sa.Column("excess", sa.Integer(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.CheckConstraint("kind IN ('floor', 'ceiling')", name=op.f("ck_quota_use_kind_known")),
        sa.CheckConstraint(
            "unit IN ('places', 'student_weeks')", name=op.f("ck_quota_use_unit_known")
        ),
        sa.CheckConstraint("amount >= 0", name=op.f("ck_quota_use_amount_non_negative")),
        sa.CheckConstraint("used >= 0", name=op.f("ck_quota_use_used_non_negative")),
        sa.CheckConstraint("excess >= 0", name=op.f("ck_quota_use_excess_non_negative")),
        sa.CheckConstraint(
            "kind = 'floor' OR used <= amount + excess", name=op.f("ck_quota_use_ceiling_holds")
        ),
        sa.PrimaryKeyConstraint(
            "series_id", "university_id", "programme_code", "term", "unit", name="pk_quota_use"
        ),
    )
    op.create_index("ix_quota_use_university_term", "quota_use", ["university_id", "term"])


def downgrade() -> None:
    op.drop_index("ix_quota_use_university_term", table_name="quota_use")
    op.drop_table("quota_use")
