"""A quota is a floor (committed volume) or a ceiling (the most that may be booked).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07
"""

from __future__ import annotations

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A column constraint in plain ALTER TABLE: SQLite adds it without rebuilding the
    # table (a batch rebuild would drop the table's other CHECK constraints), and
    # PostgreSQL reads the same statement. Existing quotas were commitments: floors.
    op.execute(
        "ALTER TABLE agreement_quotas ADD COLUMN kind VARCHAR(16) DEFAULT 'floor' NOT NULL "
        "CONSTRAINT ck_agreement_quotas_kind_known CHECK (kind IN ('floor', 'ceiling'))"
    )


def downgrade() -> None:
    op.drop_column("agreement_quotas", "kind")
