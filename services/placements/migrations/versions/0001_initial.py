"""Initial schema: messaging tables and the organisation projection.

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

from __future__ import annotations

from alembic import op
from vfu_common.messaging.tables import create_messaging_tables, drop_messaging_tables
from vfu_domain.organisation_projection import create_organisation_projection

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_messaging_tables(op)
    create_organisation_projection(op)


def downgrade() -> None:
    op.drop_table("organisation_projection")
    drop_messaging_tables(op)
