"""Capacity offers: a draft withdrawn before publication has no published_at.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-22
"""

from __future__ import annotations

from alembic import op
from placements.offers.models import allow_withdrawn_drafts, disallow_withdrawn_drafts

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    allow_withdrawn_drafts(op)


def downgrade() -> None:
    disallow_withdrawn_drafts(op)
