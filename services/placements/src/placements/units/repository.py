"""Every query on the ``care_units`` table (SQLAlchemy Core)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from vfu_common.rows import all_as, one_as

from placements.units.models import Unit, care_units


async def get(
    session: AsyncSession, unit_id: uuid.UUID, *, for_update: bool = False
) -> Unit | None:
    """One unit, locked on PostgreSQL when ``for_update`` (SQLite writers are serialised)."""
    stmt = select(care_units).where(care_units.c.id == unit_id)
    if for_update:
        stmt = stmt.with_for_update()
    return one_as(Unit, await session.execute(stmt))


async def get_many(session: AsyncSession, unit_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, Unit]:
    """Units by id (absent ids are simply missing from the result)."""
    ids = sorted(set(unit_ids))
    if not ids:
        return {}
    rows = all_as(Unit, await session.execute(select(care_units).where(care_units.c.id.in_(ids))))
    return {row.id: row for row in rows}


async def ids_by_hsa_id(session: AsyncSession, hsa_ids: Iterable[str]) -> dict[str, uuid.UUID]:
    """Unit ids keyed by HSA-id, for the HSA-ids that name a unit."""
    wanted = sorted(set(hsa_ids))
    if not wanted:
        return {}
    stmt = select(care_units.c.hsa_id, care_units.c.id).where(care_units.c.hsa_id.in_(wanted))
    return {row.hsa_id: row.id for row in (await session.execute(stmt))}


async def hsa_id_used_by_other(
    session: AsyncSession, hsa_id: str, *, unit_id: uuid.UUID | None = None
) -> bool:
    """True when a unit other than ``unit_id`` has ``hsa_id``."""
    stmt = select(care_units.c.id).where(care_units.c.hsa_id == hsa_id)
    if unit_id is not None:
        stmt = stmt.where(care_units.c.id != unit_id)
    return (await session.execute(stmt.limit(1))).first() is not None


async def add(session: AsyncSession, values: dict[str, Any]) -> None:
    """Insert a unit."""
    await session.execute(insert(care_units).values(**values))


async def change(session: AsyncSession, unit_id: uuid.UUID, values: dict[str, Any]) -> None:
    """Apply ``values`` and count the change in ``version``."""
    await session.execute(
        update(care_units)
        .where(care_units.c.id == unit_id)
        .values(**values, version=care_units.c.version + 1)
    )


async def page(
    session: AsyncSession,
    *,
    provider_id: uuid.UUID | None,
    after: uuid.UUID | None,
    limit: int,
) -> list[Unit]:
    """Units in id order (UUIDv7: creation order) after ``after``, at most ``limit``."""
    stmt = select(care_units).order_by(care_units.c.id).limit(limit)
    if provider_id is not None:
        stmt = stmt.where(care_units.c.provider_id == provider_id)
    if after is not None:
        stmt = stmt.where(care_units.c.id > after)
    return all_as(Unit, await session.execute(stmt))
