"""Care units, capacity offers, bookings and their students; idempotency keys.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from vfu_common.db import UtcDateTime

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


# Frozen: the DDL as this revision ran it, not a call into today's table declarations.
def upgrade() -> None:
    op.create_table(
        "care_units",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("provider_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("hsa_id", sa.String(length=31), nullable=True),
        sa.Column("municipality_code", sa.String(length=4), nullable=False),
        sa.Column("county_code", sa.String(length=2), nullable=False),
        sa.Column("healthcare_region", sa.String(length=32), nullable=False),
        sa.Column("care_setting", sa.String(length=40), nullable=False),
        sa.Column("latitude", sa.Float(), nullable=True),
        sa.Column("longitude", sa.Float(), nullable=True),
        sa.Column("rural", sa.Boolean(), nullable=False),
        sa.Column("vulnerable_area", sa.Boolean(), nullable=False),
        sa.Column("special_requirements", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.CheckConstraint(
            "care_setting IN ('slutenvard', 'akutsjukvard', 'primarvard', 'kommunal_halso_och_sjukvard', 'aldreomsorg', 'hemsjukvard', 'psykiatri', 'habilitering_och_rehabilitering', 'tandvard', 'other')",
            name=op.f("ck_care_units_care_setting_known"),
        ),
        sa.CheckConstraint(
            "(latitude IS NULL) = (longitude IS NULL)",
            name=op.f("ck_care_units_coordinates_together"),
        ),
        sa.CheckConstraint(
            "latitude IS NULL OR (latitude BETWEEN -90 AND 90 AND longitude BETWEEN -180 AND 180)",
            name=op.f("ck_care_units_coordinates_range"),
        ),
        sa.CheckConstraint("version >= 1", name=op.f("ck_care_units_version_positive")),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("hsa_id", name=op.f("uq_care_units_hsa_id")),
    )
    op.create_index("ix_care_units_provider", "care_units", ["provider_id", "id"], unique=False)
    op.create_table(
        "capacity_offers",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("unit_id", sa.Uuid(), nullable=False),
        sa.Column("provider_id", sa.Uuid(), nullable=False),
        sa.Column("programme_code", sa.String(length=64), nullable=True),
        sa.Column("profession_code", sa.String(length=64), nullable=False),
        sa.Column("level", sa.String(length=32), nullable=False),
        sa.Column("term", sa.String(length=7), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=False),
        sa.Column("places", sa.Integer(), nullable=False),
        sa.Column("held_places", sa.Integer(), nullable=False),
        sa.Column("confirmed_places", sa.Integer(), nullable=False),
        sa.Column("supervision_model", sa.String(length=20), nullable=False),
        sa.Column("visibility", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("auto_confirm", sa.Boolean(), nullable=False),
        sa.Column("requirements", sa.Text(), nullable=False),
        sa.Column("municipality_code", sa.String(length=4), nullable=False),
        sa.Column("county_code", sa.String(length=2), nullable=False),
        sa.Column("healthcare_region", sa.String(length=32), nullable=False),
        sa.Column("care_setting", sa.String(length=40), nullable=False),
        sa.Column("rural", sa.Boolean(), nullable=False),
        sa.Column("vulnerable_area", sa.Boolean(), nullable=False),
        sa.Column("latitude", sa.Float(), nullable=True),
        sa.Column("longitude", sa.Float(), nullable=True),
        sa.Column("published_at", UtcDateTime(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.CheckConstraint(
            "care_setting IN ('slutenvard', 'akutsjukvard', 'primarvard', 'kommunal_halso_och_sjukvard', 'aldreomsorg', 'hemsjukvard', 'psykiatri', 'habilitering_och_rehabilitering', 'tandvard', 'other')",
            name=op.f("ck_capacity_offers_care_setting_known"),
        ),
        sa.CheckConstraint(
            "level IN ('grundniva', 'avancerad_niva')", name=op.f("ck_capacity_offers_level_known")
        ),
        sa.CheckConstraint(
            "status = 'draft' OR published_at IS NOT NULL",
            name=op.f("ck_capacity_offers_published_at_set"),
        ),
        sa.CheckConstraint(
            "status IN ('draft', 'published', 'closed', 'withdrawn')",
            name=op.f("ck_capacity_offers_status_known"),
        ),
        sa.CheckConstraint(
            "supervision_model <> 'peer_2_to_1' OR (places / 2) * 2 = places",
            name=op.f("ck_capacity_offers_peer_places_even"),
        ),
        sa.CheckConstraint(
            "supervision_model IN ('one_to_one', 'peer_2_to_1', 'group', 'student_ward')",
            name=op.f("ck_capacity_offers_supervision_model_known"),
        ),
        sa.CheckConstraint(
            "visibility IN ('partners', 'all')", name=op.f("ck_capacity_offers_visibility_known")
        ),
        sa.CheckConstraint("end_date >= start_date", name=op.f("ck_capacity_offers_dates_ordered")),
        sa.CheckConstraint(
            "held_places + confirmed_places <= places",
            name=op.f("ck_capacity_offers_never_overbooked"),
        ),
        sa.CheckConstraint(
            "held_places >= 0 AND confirmed_places >= 0",
            name=op.f("ck_capacity_offers_counts_non_negative"),
        ),
        sa.CheckConstraint("places > 0", name=op.f("ck_capacity_offers_places_positive")),
        sa.CheckConstraint("version >= 1", name=op.f("ck_capacity_offers_version_positive")),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["care_units.id"], name="fk_capacity_offers_unit_id_care_units"
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_capacity_offers_unit", "capacity_offers", ["unit_id"], unique=False)
    op.create_index(
        "ix_capacity_offers_provider", "capacity_offers", ["provider_id", "id"], unique=False
    )
    op.create_index(
        "ix_capacity_offers_status_term",
        "capacity_offers",
        ["status", "term", "start_date"],
        unique=False,
    )
    op.create_table(
        "bookings",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("offer_id", sa.Uuid(), nullable=False),
        sa.Column("unit_id", sa.Uuid(), nullable=False),
        sa.Column("provider_id", sa.Uuid(), nullable=False),
        sa.Column("university_id", sa.Uuid(), nullable=False),
        sa.Column("programme_code", sa.String(length=64), nullable=True),
        sa.Column("profession_code", sa.String(length=64), nullable=False),
        sa.Column("course_code", sa.String(length=32), nullable=False),
        sa.Column("course_instance", sa.String(length=32), nullable=False),
        sa.Column("term", sa.String(length=7), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=False),
        sa.Column("supervision_model", sa.String(length=20), nullable=False),
        sa.Column("requested_places", sa.Integer(), nullable=False),
        sa.Column("confirmed_places", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=64), nullable=True),
        sa.Column("reason_detail", sa.String(length=500), nullable=True),
        sa.Column("cancelled_by_organisation_id", sa.Uuid(), nullable=True),
        sa.Column("agreement_id", sa.Uuid(), nullable=True),
        sa.Column("agreement_ends_on", sa.Date(), nullable=True),
        sa.Column("created_by", sa.String(length=255), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.CheckConstraint(
            "status IN ('requested', 'confirmed', 'declined', 'cancelled', 'in_progress', 'completed')",
            name=op.f("ck_bookings_status_known"),
        ),
        sa.CheckConstraint(
            "status NOT IN ('confirmed', 'in_progress', 'completed') OR confirmed_places > 0",
            name=op.f("ck_bookings_confirmed_has_places"),
        ),
        sa.CheckConstraint(
            "supervision_model IN ('one_to_one', 'peer_2_to_1', 'group', 'student_ward')",
            name=op.f("ck_bookings_supervision_model_known"),
        ),
        sa.CheckConstraint(
            "confirmed_places >= 0 AND confirmed_places <= requested_places",
            name=op.f("ck_bookings_confirmed_within_requested"),
        ),
        sa.CheckConstraint("end_date >= start_date", name=op.f("ck_bookings_dates_ordered")),
        sa.CheckConstraint("requested_places > 0", name=op.f("ck_bookings_requested_positive")),
        sa.CheckConstraint("version >= 1", name=op.f("ck_bookings_version_positive")),
        sa.ForeignKeyConstraint(
            ["offer_id"], ["capacity_offers.id"], name="fk_bookings_offer_id_capacity_offers"
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_bookings_offer", "bookings", ["offer_id", "status"], unique=False)
    op.create_index("ix_bookings_university", "bookings", ["university_id", "id"], unique=False)
    op.create_index("ix_bookings_provider", "bookings", ["provider_id", "id"], unique=False)
    op.create_table(
        "booking_students",
        sa.Column("booking_id", sa.Uuid(), nullable=False),
        sa.Column("student_id", sa.String(length=64), nullable=False),
        sa.Column("added_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["booking_id"],
            ["bookings.id"],
            name="fk_booking_students_booking_id_bookings",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("booking_id", "student_id"),
    )
    op.create_table(
        "idempotency_keys",
        sa.Column("client", sa.String(length=255), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("operation", sa.String(length=100), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("response_body", sa.Text(), nullable=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("client", "key"),
    )


def downgrade() -> None:
    op.drop_table("idempotency_keys")
    op.drop_table("booking_students")
    op.drop_table("bookings")
    op.drop_table("capacity_offers")
    op.drop_table("care_units")
