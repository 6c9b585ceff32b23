"""Initial schema: messaging tables and organisations.

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from vfu_common.db import UtcDateTime
from vfu_common.messaging.tables import create_messaging_tables, drop_messaging_tables

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_messaging_tables(op)
    op.create_table(
        "organisations",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("organisation_number", sa.String(10), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("municipality_code", sa.String(4), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.CheckConstraint(
            "kind IN ('region', 'municipality', 'university', 'private_provider', 'coordinating_body')",
            name=op.f("ck_organisations_kind_known"),
        ),
        sa.CheckConstraint(
            "length(organisation_number) = 10",
            name=op.f("ck_organisations_organisation_number_length"),
        ),
        sa.CheckConstraint("version >= 1", name=op.f("ck_organisations_version_positive")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_organisations")),
        sa.UniqueConstraint(
            "organisation_number", name=op.f("uq_organisations_organisation_number")
        ),
    )


def downgrade() -> None:
    op.drop_table("organisations")
    drop_messaging_tables(op)
