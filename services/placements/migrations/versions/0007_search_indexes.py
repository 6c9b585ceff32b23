"""Indexes of the student-portal search on capacity_offers.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-22
"""

from __future__ import annotations

from alembic import op
from placements.search.indexes import create_search_indexes, drop_search_indexes

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_search_indexes(op)


def downgrade() -> None:
    drop_search_indexes(op)
