"""Read models of units, offers and agreement supervision requirements (from events).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22
"""

from __future__ import annotations

from alembic import op
from supervisors.projections.agreements import (
    create_agreement_requirement_projection,
    drop_agreement_requirement_projection,
)
from supervisors.projections.offers import create_offer_projection, drop_offer_projection
from supervisors.projections.units import create_unit_projection, drop_unit_projection

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_unit_projection(op)
    create_offer_projection(op)
    create_agreement_requirement_projection(op)


def downgrade() -> None:
    drop_agreement_requirement_projection(op)
    drop_offer_projection(op)
    drop_unit_projection(op)
