"""Bookings: the university's note; indexes for the placement lifecycle and agreement watch.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22
"""

from __future__ import annotations

from alembic import op
from placements.bookings.models import (
    add_booking_note_and_lookups,
    drop_booking_note_and_lookups,
)

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    add_booking_note_and_lookups(op)


def downgrade() -> None:
    drop_booking_note_and_lookups(op)
