"""One quota per university, programme, term and unit within an agreement version.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22
"""

from __future__ import annotations

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_COLUMNS = ["agreement_id", "university_organisation_id", "programme_code", "term", "unit"]


def upgrade() -> None:
    # An index needs no table rebuild on SQLite, which would drop the CHECK constraints.
    op.create_index("uq_agreement_quotas_commitment", "agreement_quotas", _COLUMNS, unique=True)


def downgrade() -> None:
    op.drop_index("uq_agreement_quotas_commitment", table_name="agreement_quotas")
