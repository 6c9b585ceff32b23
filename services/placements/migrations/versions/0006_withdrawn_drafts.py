"""Capacity offers: a draft withdrawn before publication has no published_at.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-22
"""

from __future__ import annotations

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


CHECK = "ck_capacity_offers_published_at_set"


def _replace_published_at_rule(rule: str) -> None:
    # Batch mode: SQLite cannot alter a CHECK, so Alembic copies the table there.
    with op.batch_alter_table("capacity_offers") as batch:
        batch.drop_constraint(op.f(CHECK), type_="check")
        batch.create_check_constraint(op.f(CHECK), rule)


def upgrade() -> None:
    _replace_published_at_rule("status IN ('draft', 'withdrawn') OR published_at IS NOT NULL")


def downgrade() -> None:
    # Withdrawn drafts get their withdrawal time as published_at.
    op.execute(
        "UPDATE capacity_offers SET published_at = updated_at "
        "WHERE status = 'withdrawn' AND published_at IS NULL"
    )
    _replace_published_at_rule("status = 'draft' OR published_at IS NOT NULL")
