"""Care units, capacity offers, bookings and their students; idempotency keys.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22
"""

from __future__ import annotations

from alembic import op
from placements.bookings.models import create_bookings_tables, drop_bookings_tables
from placements.offers.models import create_offers_table, drop_offers_table
from placements.units.models import create_units_table, drop_units_table
from vfu_common.idempotency import create_idempotency_table, drop_idempotency_table

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_units_table(op)
    create_offers_table(op)
    create_bookings_tables(op)
    create_idempotency_table(op)


def downgrade() -> None:
    drop_idempotency_table(op)
    drop_bookings_tables(op)
    drop_offers_table(op)
    drop_units_table(op)
