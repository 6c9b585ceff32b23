"""Indexes of the student-portal search on capacity_offers.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-22
"""

from __future__ import annotations

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


# Frozen: the DDL as this revision ran it, not a call into today's table declarations.
def upgrade() -> None:
    op.create_index(
        "ix_capacity_offers_search_start",
        "capacity_offers",
        ["status", "start_date", "id"],
        unique=False,
    )
    op.create_index(
        "ix_capacity_offers_search_term",
        "capacity_offers",
        ["status", "term", "start_date", "id"],
        unique=False,
    )
    op.create_index(
        "ix_capacity_offers_search_profession",
        "capacity_offers",
        ["status", "profession_code", "term", "start_date", "id"],
        unique=False,
    )
    op.create_index(
        "ix_capacity_offers_search_location",
        "capacity_offers",
        ["status", "latitude", "longitude", "term", "profession_code"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_capacity_offers_search_start", table_name="capacity_offers")
    op.drop_index("ix_capacity_offers_search_term", table_name="capacity_offers")
    op.drop_index("ix_capacity_offers_search_profession", table_name="capacity_offers")
    op.drop_index("ix_capacity_offers_search_location", table_name="capacity_offers")
