"""Release dates: on an offer's ``release_on`` day, its places still free open to every
university. A partners-only offer becomes visible to all, and every release is announced
(``offer.released``), so universities' systems see the recycled places without polling.

The date-driven lifecycle calls this on each tick. One conditional UPDATE per offer
(published, due, not yet released) sets ``released_at`` with the new visibility, so two
schedulers release an offer, and announce it, once.
"""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import ColumnElement, and_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from vfu_common.events.contracts import OFFER_RELEASED
from vfu_common.rows import one_as
from vfu_common.utc import utcnow

from placements.offers.events import emit_offer_event
from placements.offers.models import Offer, capacity_offers

_c = capacity_offers.c


def _due(today: date) -> ColumnElement[bool]:
    return and_(_c.status == "published", _c.release_on <= today, _c.released_at.is_(None))


async def due_releases(session: AsyncSession, today: date) -> list[uuid.UUID]:
    """Published offers whose release date has come and that are not released yet."""
    rows = await session.execute(select(_c.id).where(_due(today)).order_by(_c.id))
    return list(rows.scalars())


async def release_if_due(session: AsyncSession, offer_id: uuid.UUID, *, today: date) -> bool:
    """Release the offer if it is still due; False if it is not (or another did it)."""
    now = utcnow()
    result = await session.execute(
        update(capacity_offers)
        .where(_c.id == offer_id, _due(today))
        .values(visibility="all", released_at=now, updated_at=now, version=_c.version + 1)
        .returning(*capacity_offers.c)
    )
    released = one_as(Offer, result)
    if released is None:
        return False
    await emit_offer_event(session, OFFER_RELEASED, released)
    return True
