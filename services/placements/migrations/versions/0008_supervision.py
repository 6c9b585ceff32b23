"""The supervisor gate: the supervisor projection and supervisor assignments.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-22
"""

from __future__ import annotations

from alembic import op
from placements.supervision.models import create_supervision_tables, drop_supervision_tables

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_supervision_tables(op)


def downgrade() -> None:
    drop_supervision_tables(op)
