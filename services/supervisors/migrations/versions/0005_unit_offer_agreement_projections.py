"""Read models of units, offers and agreement supervision requirements (from events).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from vfu_common.db import UtcDateTime

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


# Frozen: the DDL as this revision ran it, not a call into today's table declarations.
def upgrade() -> None:
    op.create_table(
        "unit_projection",
        sa.Column("unit_id", sa.Uuid(), nullable=False),
        sa.Column("provider_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("municipality_code", sa.String(length=4), nullable=False),
        sa.Column("care_setting", sa.String(length=40), nullable=False),
        sa.Column("aggregate_version", sa.Integer(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("unit_id"),
    )
    op.create_index(
        "ix_unit_projection_provider", "unit_projection", ["provider_id", "unit_id"], unique=False
    )
    op.create_table(
        "offer_projection",
        sa.Column("offer_id", sa.Uuid(), nullable=False),
        sa.Column("unit_id", sa.Uuid(), nullable=False),
        sa.Column("provider_id", sa.Uuid(), nullable=False),
        sa.Column("programme_code", sa.String(length=64), nullable=True),
        sa.Column("profession_code", sa.String(length=64), nullable=False),
        sa.Column("term", sa.String(length=7), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=False),
        sa.Column("places", sa.Integer(), nullable=False),
        sa.Column("confirmed_places", sa.Integer(), nullable=False),
        sa.Column("supervision_model", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("aggregate_version", sa.Integer(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("offer_id"),
    )
    op.create_index(
        "ix_offer_projection_provider_status_end",
        "offer_projection",
        ["provider_id", "status", "end_date"],
        unique=False,
    )
    op.create_table(
        "agreement_requirement_projection",
        sa.Column("agreement_id", sa.Uuid(), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("professions", sa.Text(), nullable=False),
        sa.Column("programmes", sa.Text(), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("effective_until", sa.Date(), nullable=True),
        sa.Column("supervision_requirement_level", sa.Text(), nullable=True),
        sa.Column("aggregate_version", sa.Integer(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("agreement_id"),
    )
    op.create_table(
        "agreement_requirement_providers",
        sa.Column("agreement_id", sa.Uuid(), nullable=False),
        sa.Column("provider_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["agreement_id"],
            ["agreement_requirement_projection.agreement_id"],
            name=op.f("fk_agreement_requirement_providers_agreement"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("agreement_id", "provider_id"),
    )
    op.create_index(
        "ix_agreement_requirement_providers_provider",
        "agreement_requirement_providers",
        ["provider_id", "agreement_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(
        "ix_agreement_requirement_providers_provider", table_name="agreement_requirement_providers"
    )
    op.drop_table("agreement_requirement_providers")
    op.drop_table("agreement_requirement_projection")
    op.drop_index("ix_offer_projection_provider_status_end", table_name="offer_projection")
    op.drop_table("offer_projection")
    op.drop_index("ix_unit_projection_provider", table_name="unit_projection")
    op.drop_table("unit_projection")
