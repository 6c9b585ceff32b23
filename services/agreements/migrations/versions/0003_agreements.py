"""Agreements: versions, parties, scope, quotas, rates, documents.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from vfu_common.db import UtcDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "agreements",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("series_id", sa.Uuid(), nullable=False),
        sa.Column("version_number", sa.Integer(), nullable=False),
        sa.Column("supersedes_agreement_id", sa.Uuid(), nullable=True),
        sa.Column("agreement_type", sa.String(32), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_to", sa.Date(), nullable=True),
        sa.Column("notice_period_months", sa.Integer(), nullable=True),
        sa.Column("auto_renewal_months", sa.Integer(), nullable=True),
        sa.Column("effective_until", sa.Date(), nullable=True),
        sa.Column("supervision_requirement_level", sa.String(64), nullable=True),
        sa.Column("notice_given_on", sa.Date(), nullable=True),
        sa.Column("notice_given_by_organisation_id", sa.Uuid(), nullable=True),
        sa.Column("expiry_reminder_sent_on", sa.Date(), nullable=True),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.CheckConstraint(
            "agreement_type IN ('tripartite_vfu', 'bilateral_vfu', 'alf', 'tua', 'vulf', 'other')",
            name=op.f("ck_agreements_agreement_type_known"),
        ),
        sa.CheckConstraint(
            "status IN ('draft', 'pending_signatures', 'active', 'notice_given', 'terminated', 'expired', 'abandoned')",
            name=op.f("ck_agreements_status_known"),
        ),
        sa.CheckConstraint(
            "version_number >= 1", name=op.f("ck_agreements_version_number_positive")
        ),
        sa.CheckConstraint("version >= 1", name=op.f("ck_agreements_version_positive")),
        sa.CheckConstraint(
            "valid_to IS NULL OR valid_to >= valid_from", name=op.f("ck_agreements_valid_range")
        ),
        sa.CheckConstraint(
            "effective_until IS NULL OR effective_until >= valid_from",
            name=op.f("ck_agreements_effective_range"),
        ),
        sa.CheckConstraint(
            "notice_period_months IS NULL OR notice_period_months >= 0",
            name=op.f("ck_agreements_notice_period_non_negative"),
        ),
        sa.CheckConstraint(
            "auto_renewal_months IS NULL OR auto_renewal_months >= 1",
            name=op.f("ck_agreements_auto_renewal_positive"),
        ),
        sa.CheckConstraint(
            "(notice_given_on IS NULL) = (notice_given_by_organisation_id IS NULL)",
            name=op.f("ck_agreements_notice_fields_together"),
        ),
        sa.CheckConstraint(
            "status NOT IN ('notice_given', 'terminated') OR notice_given_on IS NOT NULL",
            name=op.f("ck_agreements_notice_recorded"),
        ),
        sa.ForeignKeyConstraint(
            ["supersedes_agreement_id"],
            ["agreements.id"],
            name=op.f("fk_agreements_supersedes_agreement_id_agreements"),
        ),
        sa.ForeignKeyConstraint(
            ["notice_given_by_organisation_id"],
            ["organisations.id"],
            name=op.f("fk_agreements_notice_given_by_organisation_id_organisations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agreements")),
        sa.UniqueConstraint(
            "series_id", "version_number", name=op.f("uq_agreements_series_version")
        ),
    )
    op.create_index(op.f("ix_agreements_series_id"), "agreements", ["series_id"])
    op.create_index(op.f("ix_agreements_status"), "agreements", ["status"])

    op.create_table(
        "agreement_parties",
        sa.Column("agreement_id", sa.Uuid(), nullable=False),
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(32), nullable=False),
        sa.Column("signed_at", UtcDateTime(), nullable=True),
        sa.Column("signed_by", sa.String(200), nullable=True),
        sa.CheckConstraint(
            "role IN ('university', 'region', 'municipality', 'private_provider', 'coordinating_body')",
            name=op.f("ck_agreement_parties_role_known"),
        ),
        sa.CheckConstraint(
            "(signed_at IS NULL) = (signed_by IS NULL)",
            name=op.f("ck_agreement_parties_signature_fields_together"),
        ),
        sa.ForeignKeyConstraint(
            ["agreement_id"],
            ["agreements.id"],
            name=op.f("fk_agreement_parties_agreement_id_agreements"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_agreement_parties_organisation_id_organisations"),
        ),
        sa.PrimaryKeyConstraint(
            "agreement_id", "organisation_id", name=op.f("pk_agreement_parties")
        ),
        sa.UniqueConstraint("agreement_id", "position", name=op.f("uq_agreement_parties_position")),
    )
    op.create_index(
        op.f("ix_agreement_parties_organisation_id"), "agreement_parties", ["organisation_id"]
    )

    op.create_table(
        "agreement_scope",
        sa.Column("agreement_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("code", sa.String(64), nullable=False),
        sa.CheckConstraint(
            "kind IN ('programme', 'profession', 'unit', 'municipality')",
            name=op.f("ck_agreement_scope_kind_known"),
        ),
        sa.CheckConstraint("length(code) >= 1", name=op.f("ck_agreement_scope_code_not_empty")),
        sa.ForeignKeyConstraint(
            ["agreement_id"],
            ["agreements.id"],
            name=op.f("fk_agreement_scope_agreement_id_agreements"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("agreement_id", "kind", "code", name=op.f("pk_agreement_scope")),
    )

    op.create_table(
        "agreement_quotas",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("agreement_id", sa.Uuid(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("university_organisation_id", sa.Uuid(), nullable=False),
        sa.Column("programme_code", sa.String(64), nullable=False),
        sa.Column("term", sa.String(7), nullable=False),
        sa.Column("unit", sa.String(16), nullable=False),
        sa.Column("amount", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "unit IN ('places', 'student_weeks')", name=op.f("ck_agreement_quotas_unit_known")
        ),
        sa.CheckConstraint("amount >= 0", name=op.f("ck_agreement_quotas_amount_non_negative")),
        sa.CheckConstraint(
            "length(term) = 7 AND substr(term, 5, 3) IN ('-HT', '-VT')",
            name=op.f("ck_agreement_quotas_term_format"),
        ),
        sa.ForeignKeyConstraint(
            ["agreement_id"],
            ["agreements.id"],
            name=op.f("fk_agreement_quotas_agreement_id_agreements"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["university_organisation_id"],
            ["organisations.id"],
            name=op.f("fk_agreement_quotas_university_organisation_id_organisations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agreement_quotas")),
    )
    op.create_index(op.f("ix_agreement_quotas_agreement_id"), "agreement_quotas", ["agreement_id"])

    op.create_table(
        "agreement_rates",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("agreement_id", sa.Uuid(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("programme_code", sa.String(64), nullable=False),
        sa.Column("level", sa.String(64), nullable=True),
        sa.Column("basis", sa.String(32), nullable=False),
        sa.Column("amount_ore", sa.BigInteger(), nullable=False),
        sa.Column("payer_organisation_id", sa.Uuid(), nullable=False),
        sa.Column("payee_organisation_id", sa.Uuid(), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=True),
        sa.Column("valid_to", sa.Date(), nullable=True),
        sa.CheckConstraint(
            "basis IN ('per_student_week', 'per_term', 'fixed')",
            name=op.f("ck_agreement_rates_basis_known"),
        ),
        sa.CheckConstraint(
            "amount_ore >= 0", name=op.f("ck_agreement_rates_amount_ore_non_negative")
        ),
        sa.CheckConstraint(
            "length(programme_code) >= 1", name=op.f("ck_agreement_rates_programme_not_empty")
        ),
        sa.CheckConstraint(
            "valid_from IS NULL OR valid_to IS NULL OR valid_to >= valid_from",
            name=op.f("ck_agreement_rates_valid_range"),
        ),
        sa.ForeignKeyConstraint(
            ["agreement_id"],
            ["agreements.id"],
            name=op.f("fk_agreement_rates_agreement_id_agreements"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["payer_organisation_id"],
            ["organisations.id"],
            name=op.f("fk_agreement_rates_payer_organisation_id_organisations"),
        ),
        sa.ForeignKeyConstraint(
            ["payee_organisation_id"],
            ["organisations.id"],
            name=op.f("fk_agreement_rates_payee_organisation_id_organisations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agreement_rates")),
    )
    op.create_index(op.f("ix_agreement_rates_agreement_id"), "agreement_rates", ["agreement_id"])

    op.create_table(
        "agreement_documents",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("agreement_id", sa.Uuid(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("uri", sa.String(2000), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.CheckConstraint(
            "length(sha256) = 64 AND ltrim(sha256, '0123456789abcdef') = ''",
            name=op.f("ck_agreement_documents_sha256_hex"),
        ),
        sa.ForeignKeyConstraint(
            ["agreement_id"],
            ["agreements.id"],
            name=op.f("fk_agreement_documents_agreement_id_agreements"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agreement_documents")),
    )
    op.create_index(
        op.f("ix_agreement_documents_agreement_id"), "agreement_documents", ["agreement_id"]
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_agreement_documents_agreement_id"), table_name="agreement_documents")
    op.drop_table("agreement_documents")
    op.drop_index(op.f("ix_agreement_rates_agreement_id"), table_name="agreement_rates")
    op.drop_table("agreement_rates")
    op.drop_index(op.f("ix_agreement_quotas_agreement_id"), table_name="agreement_quotas")
    op.drop_table("agreement_quotas")
    op.drop_table("agreement_scope")
    op.drop_index(op.f("ix_agreement_parties_organisation_id"), table_name="agreement_parties")
    op.drop_table("agreement_parties")
    op.drop_index(op.f("ix_agreements_status"), table_name="agreements")
    op.drop_index(op.f("ix_agreements_series_id"), table_name="agreements")
    op.drop_table("agreements")
