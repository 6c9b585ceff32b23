"""Bookings: the university's note; indexes for the placement lifecycle and agreement watch.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


# Frozen: the DDL as this revision ran it, not a call into today's table declarations.
def upgrade() -> None:
    op.add_column("bookings", sa.Column("note", sa.String(length=500), nullable=True))
    op.create_index("ix_bookings_status_start", "bookings", ["status", "start_date"], unique=False)
    op.create_index("ix_bookings_agreement", "bookings", ["agreement_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_bookings_status_start", table_name="bookings")
    op.drop_index("ix_bookings_agreement", table_name="bookings")
    op.drop_column("bookings", "note")
