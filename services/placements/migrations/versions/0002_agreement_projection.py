"""The agreement projection: agreement versions and their parties.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from vfu_common.db import UtcDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


# Frozen: the DDL as this revision ran it, not a call into today's table declarations.
def upgrade() -> None:
    op.create_table(
        "agreement_projection",
        sa.Column("agreement_id", sa.Uuid(), nullable=False),
        sa.Column("series_id", sa.Uuid(), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("terms", sa.Text(), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("effective_until", sa.Date(), nullable=True),
        sa.Column("aggregate_version", sa.Integer(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("agreement_id"),
    )
    op.create_table(
        "agreement_projection_parties",
        sa.Column("agreement_id", sa.Uuid(), nullable=False),
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["agreement_id"],
            ["agreement_projection.agreement_id"],
            name="fk_agreement_projection_parties_agreement",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("agreement_id", "organisation_id", "role"),
    )
    op.create_index(
        "ix_agreement_projection_parties_organisation_id",
        "agreement_projection_parties",
        ["organisation_id", "role", "agreement_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(
        "ix_agreement_projection_parties_organisation_id", table_name="agreement_projection_parties"
    )
    op.drop_table("agreement_projection_parties")
    op.drop_table("agreement_projection")
