"""Search indexes: most free places by profession and term; profession in a distance box.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-22
"""

from __future__ import annotations

from alembic import op
from placements.search.indexes import create_search_indexes_0009, drop_search_indexes_0009

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_search_indexes_0009(op)


def downgrade() -> None:
    drop_search_indexes_0009(op)
