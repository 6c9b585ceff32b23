"""Queries of the organisation aggregate."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from agreements.organisations.models import Organisation


async def get(session: AsyncSession, organisation_id: uuid.UUID) -> Organisation | None:
    """One organisation by id."""
    return await session.get(Organisation, organisation_id)


async def find_by_number(session: AsyncSession, organisation_number: str) -> Organisation | None:
    """One organisation by organisationsnummer."""
    result = await session.execute(
        select(Organisation).where(Organisation.organisation_number == organisation_number)
    )
    return result.scalar_one_or_none()
