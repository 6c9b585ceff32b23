"""Supervisors, their units, training courses and training records; idempotency keys.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""

from __future__ import annotations

from alembic import op
from supervisors.registry.models import create_registry_tables, drop_registry_tables
from supervisors.training.models import create_training_tables, drop_training_tables
from vfu_common.idempotency import create_idempotency_table, drop_idempotency_table

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_registry_tables(op)
    create_training_tables(op)
    create_idempotency_table(op)


def downgrade() -> None:
    drop_idempotency_table(op)
    drop_training_tables(op)
    drop_registry_tables(op)
