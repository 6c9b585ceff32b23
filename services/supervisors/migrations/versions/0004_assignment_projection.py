"""The supervisor assignment projection (from placements' supervision events).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22
"""

from __future__ import annotations

from alembic import op
from supervisors.projections.assignments import (
    create_assignment_projection,
    drop_assignment_projection,
)

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_assignment_projection(op)


def downgrade() -> None:
    drop_assignment_projection(op)
