"""The agreement aggregate: one row per version, with child tables for its terms.

Storage decision: every list in the terms (parties, scope, quotas, rates, documents) is a
child table, never a JSON column, so the database can enforce each item's invariants
(CHECK constraints, foreign keys, uniqueness) and the overlap and coverage queries can
filter on parties in SQL. Scope lists (programmes, professions, covered units and
municipalities) share one table keyed by ``kind``, because they are all plain codes.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import get_args

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship
from vfu_common.db import UtcDateTime
from vfu_common.events.contracts import AgreementStatus

from agreements.models import Base

AGREEMENT_TYPES = ("tripartite_vfu", "bilateral_vfu", "alf", "tua", "vulf", "other")
STATUSES = get_args(AgreementStatus)
PARTY_ROLES = ("university", "region", "municipality", "private_provider", "coordinating_body")
SCOPE_KINDS = ("programme", "profession", "unit", "municipality")
QUOTA_UNITS = ("places", "student_weeks")
QUOTA_KINDS = ("floor", "ceiling")
RATE_BASES = ("per_student_week", "per_term", "fixed")


def _one_of(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Agreement(Base):
    """One version of an agreement; amendments are new rows in the same series."""

    __tablename__ = "agreements"
    __table_args__ = (
        CheckConstraint(_one_of("agreement_type", AGREEMENT_TYPES), name="agreement_type_known"),
        CheckConstraint(_one_of("status", STATUSES), name="status_known"),
        CheckConstraint("version_number >= 1", name="version_number_positive"),
        CheckConstraint("version >= 1", name="version_positive"),
        CheckConstraint("valid_to IS NULL OR valid_to >= valid_from", name="valid_range"),
        CheckConstraint(
            "effective_until IS NULL OR effective_until >= valid_from", name="effective_range"
        ),
        CheckConstraint(
            "notice_period_months IS NULL OR notice_period_months >= 0",
            name="notice_period_non_negative",
        ),
        CheckConstraint(
            "auto_renewal_months IS NULL OR auto_renewal_months >= 1",
            name="auto_renewal_positive",
        ),
        # Notice fields come together, and only on agreements that were given notice.
        CheckConstraint(
            "(notice_given_on IS NULL) = (notice_given_by_organisation_id IS NULL)",
            name="notice_fields_together",
        ),
        CheckConstraint(
            "status NOT IN ('notice_given', 'terminated') OR notice_given_on IS NOT NULL",
            name="notice_recorded",
        ),
        UniqueConstraint("series_id", "version_number", name="uq_agreements_series_version"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    series_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    version_number: Mapped[int] = mapped_column(Integer)
    supersedes_agreement_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("agreements.id"))
    agreement_type: Mapped[str] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(32), index=True)
    valid_from: Mapped[date] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)
    notice_period_months: Mapped[int | None] = mapped_column(Integer)
    auto_renewal_months: Mapped[int | None] = mapped_column(Integer)
    effective_until: Mapped[date | None] = mapped_column(Date)
    supervision_requirement_level: Mapped[str | None] = mapped_column(String(64))
    notice_given_on: Mapped[date | None] = mapped_column(Date)
    notice_given_by_organisation_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("organisations.id")
    )
    # Set once when expiry_upcoming is emitted, so the reminder goes out exactly once.
    expiry_reminder_sent_on: Mapped[date | None] = mapped_column(Date)
    created_by: Mapped[str] = mapped_column(String(200))
    version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)

    parties: Mapped[list[AgreementParty]] = relationship(
        lazy="raise", order_by="AgreementParty.position", cascade="all, delete-orphan"
    )
    scope: Mapped[list[AgreementScopeItem]] = relationship(
        lazy="raise", cascade="all, delete-orphan"
    )
    quotas: Mapped[list[AgreementQuota]] = relationship(
        lazy="raise", order_by="AgreementQuota.position", cascade="all, delete-orphan"
    )
    rates: Mapped[list[AgreementRate]] = relationship(
        lazy="raise", order_by="AgreementRate.position", cascade="all, delete-orphan"
    )
    documents: Mapped[list[AgreementDocument]] = relationship(
        lazy="raise", order_by="AgreementDocument.position", cascade="all, delete-orphan"
    )


class AgreementParty(Base):
    """A party to one agreement version and its own signature."""

    __tablename__ = "agreement_parties"
    __table_args__ = (
        CheckConstraint(_one_of("role", PARTY_ROLES), name="role_known"),
        CheckConstraint(
            "(signed_at IS NULL) = (signed_by IS NULL)", name="signature_fields_together"
        ),
        UniqueConstraint("agreement_id", "position", name="uq_agreement_parties_position"),
    )

    agreement_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("agreements.id", ondelete="CASCADE"), primary_key=True
    )
    organisation_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organisations.id"), primary_key=True, index=True
    )
    position: Mapped[int] = mapped_column(Integer)
    role: Mapped[str] = mapped_column(String(32))
    signed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    signed_by: Mapped[str | None] = mapped_column(String(200))


class AgreementScopeItem(Base):
    """One programme, profession, covered unit (UUID text) or municipality code."""

    __tablename__ = "agreement_scope"
    __table_args__ = (
        CheckConstraint(_one_of("kind", SCOPE_KINDS), name="kind_known"),
        CheckConstraint("length(code) >= 1", name="code_not_empty"),
    )

    agreement_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("agreements.id", ondelete="CASCADE"), primary_key=True
    )
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    code: Mapped[str] = mapped_column(String(64), primary_key=True)


class AgreementQuota(Base):
    """Committed volume for a university party, programme and term."""

    __tablename__ = "agreement_quotas"
    __table_args__ = (
        CheckConstraint(_one_of("unit", QUOTA_UNITS), name="unit_known"),
        CheckConstraint(_one_of("kind", QUOTA_KINDS), name="kind_known"),
        CheckConstraint("amount >= 0", name="amount_non_negative"),
        CheckConstraint(
            "length(term) = 7 AND substr(term, 5, 3) IN ('-HT', '-VT')", name="term_format"
        ),
        # A unique index, not a constraint: adding it needs no table rebuild on SQLite
        # (a batch rebuild would drop the CHECK constraints above).
        Index(
            "uq_agreement_quotas_commitment",
            "agreement_id",
            "university_organisation_id",
            "programme_code",
            "term",
            "unit",
            unique=True,
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    agreement_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("agreements.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer)
    university_organisation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisations.id"))
    programme_code: Mapped[str] = mapped_column(String(64))
    term: Mapped[str] = mapped_column(String(7))
    unit: Mapped[str] = mapped_column(String(16))
    amount: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16), server_default="floor")


class AgreementRate(Base):
    """A compensation rate in integer öre (never a float)."""

    __tablename__ = "agreement_rates"
    __table_args__ = (
        CheckConstraint(_one_of("basis", RATE_BASES), name="basis_known"),
        CheckConstraint("amount_ore >= 0", name="amount_ore_non_negative"),
        CheckConstraint("length(programme_code) >= 1", name="programme_not_empty"),
        CheckConstraint(
            "valid_from IS NULL OR valid_to IS NULL OR valid_to >= valid_from",
            name="valid_range",
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    agreement_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("agreements.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer)
    programme_code: Mapped[str] = mapped_column(String(64))
    level: Mapped[str | None] = mapped_column(String(64))
    basis: Mapped[str] = mapped_column(String(32))
    amount_ore: Mapped[int] = mapped_column(BigInteger)
    payer_organisation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisations.id"))
    payee_organisation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisations.id"))
    valid_from: Mapped[date | None] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)


class AgreementDocument(Base):
    """A signed document (or annex) by reference, with its SHA-256 for integrity."""

    __tablename__ = "agreement_documents"
    __table_args__ = (
        # Lowercase hex, 64 characters; ltrim with a character set works on both databases.
        CheckConstraint(
            "length(sha256) = 64 AND ltrim(sha256, '0123456789abcdef') = ''",
            name="sha256_hex",
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    agreement_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("agreements.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200))
    uri: Mapped[str] = mapped_column(String(2000))
    sha256: Mapped[str] = mapped_column(String(64))
