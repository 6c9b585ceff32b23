"""Search indexes: most free places by profession and term; profession in a distance box.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


# Frozen: the DDL as this revision ran it, not a call into today's table declarations.
def upgrade() -> None:
    op.create_index(
        "ix_capacity_offers_search_free_places",
        "capacity_offers",
        [
            "status",
            "profession_code",
            "term",
            sa.literal_column("(places - held_places - confirmed_places)"),
            "id",
        ],
        unique=False,
    )
    op.create_index(
        "ix_capacity_offers_search_profession_location",
        "capacity_offers",
        ["status", "profession_code", "latitude", "longitude"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_capacity_offers_search_free_places", table_name="capacity_offers")
    op.drop_index("ix_capacity_offers_search_profession_location", table_name="capacity_offers")
