"""The organisation aggregate: a legal entity that can be a party to agreements."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column, relationship
from vfu_common.db import UtcDateTime
from vfu_domain.reference import HEALTHCARE_REGIONS

from agreements.models import Base

KINDS = ("region", "municipality", "university", "private_provider", "coordinating_body")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Organisation(Base):
    """A registered organisation; its organisationsnummer is unique."""

    __tablename__ = "organisations"
    __table_args__ = (
        CheckConstraint(_in("kind", KINDS), name="kind_known"),
        CheckConstraint("length(organisation_number) = 10", name="organisation_number_length"),
        CheckConstraint("version >= 1", name="version_positive"),
        CheckConstraint("length(county_code) = 2", name="county_code_length"),
        # The keyset order of the search (name, id), so each page is one index range.
        Index("ix_organisations_name_id", "name", "id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    organisation_number: Mapped[str] = mapped_column(String(10), unique=True)
    kind: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(200))
    # ``name`` case-folded in Python: SQLite's lower() folds ASCII only, so a search for
    # "örebro" would miss "Region Örebro län" if the database folded it.
    name_folded: Mapped[str] = mapped_column(String(200))
    municipality_code: Mapped[str | None] = mapped_column(String(4))
    county_code: Mapped[str | None] = mapped_column(String(2), index=True)
    hsa_id: Mapped[str | None] = mapped_column(String(31))
    version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)

    region_rows: Mapped[list[OrganisationHealthcareRegion]] = relationship(
        lazy="raise",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="OrganisationHealthcareRegion.healthcare_region",
    )

    @property
    def healthcare_regions(self) -> list[str]:
        """The healthcare regions, in the order of ``HEALTHCARE_REGIONS`` (north to south)."""
        names = {row.healthcare_region for row in self.region_rows}
        return [region for region in HEALTHCARE_REGIONS if region in names]


class OrganisationHealthcareRegion(Base):
    """One healthcare region an organisation belongs to.

    A table rather than a column because an organisation can belong to two (Region Halland
    spans Södra and Västra) and searches filter on it.
    """

    __tablename__ = "organisation_healthcare_regions"
    __table_args__ = (
        CheckConstraint(
            _in("healthcare_region", HEALTHCARE_REGIONS), name="healthcare_region_known"
        ),
    )

    organisation_id: Mapped[uuid.UUID] = mapped_column(
        Uuid,
        # Named explicitly: the convention's name would exceed PostgreSQL's 63 characters.
        ForeignKey(
            "organisations.id",
            ondelete="CASCADE",
            name="fk_organisation_healthcare_regions_organisation",
        ),
        primary_key=True,
    )
    healthcare_region: Mapped[str] = mapped_column(String(32), primary_key=True, index=True)
