"""Queries of the organisation aggregate."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import Select, and_, exists, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from agreements.organisations.models import Organisation, OrganisationHealthcareRegion
from agreements.organisations.schemas import OrganisationFilter


def _with_regions() -> Select[Organisation]:
    # Relationships are lazy="raise": every query that returns organisations loads the
    # regions it will serialise in one extra statement.
    return select(Organisation).options(selectinload(Organisation.region_rows))


async def get(
    session: AsyncSession, organisation_id: uuid.UUID, *, for_update: bool = False
) -> Organisation | None:
    """One organisation by id; ``for_update`` locks the row (PostgreSQL) for a change."""
    stmt = _with_regions().where(Organisation.id == organisation_id)
    if for_update:
        stmt = stmt.with_for_update()
    return (await session.execute(stmt)).scalar_one_or_none()


async def find_by_number(session: AsyncSession, organisation_number: str) -> Organisation | None:
    """One organisation by organisationsnummer."""
    result = await session.execute(
        select(Organisation).where(Organisation.organisation_number == organisation_number)
    )
    return result.scalar_one_or_none()


async def names_by_number(session: AsyncSession) -> dict[str, str]:
    """Every registered organisationsnummer with its organisation's name."""
    result = await session.execute(select(Organisation.organisation_number, Organisation.name))
    return {number: name for number, name in result.all()}


async def search(
    session: AsyncSession,
    criteria: OrganisationFilter,
    *,
    after: tuple[str, uuid.UUID] | None,
    limit: int,
) -> Sequence[Organisation]:
    """Organisations matching ``criteria`` in (name, id) order, after the keyset ``after``."""
    stmt = _with_regions().order_by(Organisation.name, Organisation.id).limit(limit)
    if criteria.kind is not None:
        stmt = stmt.where(Organisation.kind == criteria.kind)
    if criteria.county_code is not None:
        stmt = stmt.where(Organisation.county_code == criteria.county_code)
    if criteria.healthcare_region is not None:
        stmt = stmt.where(
            exists().where(
                OrganisationHealthcareRegion.organisation_id == Organisation.id,
                OrganisationHealthcareRegion.healthcare_region == criteria.healthcare_region,
            )
        )
    if criteria.name is not None:
        # autoescape: a '%' or '_' typed by the caller is a character, not a wildcard.
        stmt = stmt.where(
            Organisation.name_folded.contains(criteria.name.casefold(), autoescape=True)
        )
    if after is not None:
        name, organisation_id = after
        stmt = stmt.where(
            or_(
                Organisation.name > name,
                and_(Organisation.name == name, Organisation.id > organisation_id),
            )
        )
    return (await session.execute(stmt)).scalars().all()
