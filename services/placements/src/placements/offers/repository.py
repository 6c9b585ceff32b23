"""Every query on the ``capacity_offers`` table (SQLAlchemy Core)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from vfu_common.rows import all_as, one_as

from placements.offers.models import Offer, capacity_offers

_offers = capacity_offers.c


async def get(
    session: AsyncSession,
    offer_id: uuid.UUID,
    *,
    visible: ColumnElement[bool],
    for_update: bool = False,
) -> Offer | None:
    """The offer if ``visible`` admits it; locked on PostgreSQL when ``for_update``.

    SQLite ignores the lock: its writers are serialised by ``BEGIN IMMEDIATE``.
    """
    stmt = select(capacity_offers).where(_offers.id == offer_id, visible)
    if for_update:
        stmt = stmt.with_for_update(of=capacity_offers)
    return one_as(Offer, await session.execute(stmt))


async def add_many(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    """Insert offers in one statement (executemany)."""
    if rows:
        await session.execute(insert(capacity_offers), list(rows))


async def change(
    session: AsyncSession,
    offer_id: uuid.UUID,
    values: dict[str, Any],
    *,
    expected_status: Sequence[str] | None = None,
    places: int | None = None,
) -> bool:
    """Apply ``values`` and count the change in ``version``, conditionally.

    Args:
        expected_status: Change only an offer still in one of these statuses (a lost race
            changes nothing).
        places: Change only if the bookings' held and confirmed places fit in ``places``,
            decided by the database in the same statement (never overbook).

    Returns:
        True when the offer was changed.
    """
    stmt = (
        update(capacity_offers)
        .where(_offers.id == offer_id)
        .values(**values, version=_offers.version + 1)
    )
    if expected_status is not None:
        stmt = stmt.where(_offers.status.in_(list(expected_status)))
    if places is not None:
        stmt = stmt.where(_offers.held_places + _offers.confirmed_places <= places)
    result = await session.execute(stmt)
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


async def refresh_unit_copies(
    session: AsyncSession, unit_id: uuid.UUID, values: dict[str, Any], announced: Sequence[str]
) -> list[uuid.UUID]:
    """Overwrite the unit columns copied onto its offers; the ids of those in ``announced``
    statuses (whose change is announced)."""
    await session.execute(
        update(capacity_offers)
        .where(_offers.unit_id == unit_id)
        .values(**values, version=_offers.version + 1)
    )
    stmt = select(_offers.id).where(_offers.unit_id == unit_id, _offers.status.in_(announced))
    return list((await session.execute(stmt.order_by(_offers.id))).scalars())


async def get_many(session: AsyncSession, offer_ids: Sequence[uuid.UUID]) -> list[Offer]:
    """Offers by id, in id order."""
    if not offer_ids:
        return []
    stmt = select(capacity_offers).where(_offers.id.in_(list(offer_ids))).order_by(_offers.id)
    return all_as(Offer, await session.execute(stmt))


@dataclass(frozen=True)
class OfferFilter:
    """List filters; None means any."""

    status: str | None = None
    unit_id: uuid.UUID | None = None
    provider_id: uuid.UUID | None = None
    term: str | None = None

    def conditions(self) -> list[ColumnElement[bool]]:
        """The WHERE conditions of the set filters."""
        wanted = {
            _offers.status: self.status,
            _offers.unit_id: self.unit_id,
            _offers.provider_id: self.provider_id,
            _offers.term: self.term,
        }
        return [column == value for column, value in wanted.items() if value is not None]


async def page(
    session: AsyncSession,
    *,
    visible: ColumnElement[bool],
    filters: OfferFilter,
    after: uuid.UUID | None,
    limit: int,
) -> list[Offer]:
    """Visible offers in id order (UUIDv7: creation order) after ``after``, at most ``limit``."""
    stmt = (
        select(capacity_offers)
        .where(visible, *filters.conditions())
        .order_by(_offers.id)
        .limit(limit)
    )
    if after is not None:
        stmt = stmt.where(_offers.id > after)
    return all_as(Offer, await session.execute(stmt))
