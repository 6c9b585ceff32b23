"""Who may see and steer an agreement besides its parties.

Admins oversee every agreement. A coordinator (a regional VFU council) oversees the
agreements that have a party in one of its own organisation's healthcare regions, so a
coordinator in Västra sees Region Halland's agreements and so does one in Södra (Halland
spans both). Everyone else sees only agreements their organisation is a party to.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from vfu_common.principal import Principal

from agreements.organisations.models import OrganisationHealthcareRegion


async def regions_of(
    session: AsyncSession, organisation_ids: Iterable[uuid.UUID]
) -> frozenset[str]:
    """The healthcare regions the given organisations belong to."""
    ids = list(organisation_ids)
    if not ids:
        return frozenset()
    rows = await session.execute(
        select(OrganisationHealthcareRegion.healthcare_region).where(
            OrganisationHealthcareRegion.organisation_id.in_(ids)
        )
    )
    return frozenset(rows.scalars().all())


async def coordinator_regions(session: AsyncSession, principal: Principal) -> frozenset[str]:
    """The regions a coordinator oversees (none for other roles or without an organisation)."""
    if not principal.has_role("coordinator") or principal.organisation_id is None:
        return frozenset()
    return await regions_of(session, [principal.organisation_id])


async def oversees(
    session: AsyncSession, principal: Principal, party_ids: Iterable[uuid.UUID]
) -> bool:
    """True for an admin, or a coordinator sharing a healthcare region with a party."""
    if principal.has_role("admin"):
        return True
    regions = await coordinator_regions(session, principal)
    return bool(regions) and bool(regions & await regions_of(session, party_ids))
