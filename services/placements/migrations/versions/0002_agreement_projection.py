"""The agreement projection: agreement versions and their parties.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from __future__ import annotations

from alembic import op
from placements.projections.agreements import (
    create_agreement_projection,
    drop_agreement_projection,
)

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_agreement_projection(op)


def downgrade() -> None:
    drop_agreement_projection(op)
