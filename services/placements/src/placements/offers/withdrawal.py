"""Withdrawing an offer: its open bookings are cancelled, never silently (DOMAIN).

In the withdrawal's own transaction every requested or confirmed booking on the offer
becomes ``cancelled`` with reason ``offer_withdrawn`` and its own ``booking.cancelled``
event, and ``offer.withdrawn`` lists them. Students already on placement cannot be
cancelled by a withdrawal, so an ``in_progress`` booking refuses it; completed bookings
are history and stay.

This works on the bookings table directly; the bookings feature owns the rest of the
booking lifecycle.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any, Final

from sqlalchemy import RowMapping, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from vfu_common.events.contracts import BOOKING_CANCELLED, OFFER_WITHDRAWN
from vfu_common.utc import utcnow

from placements.bookings.events import emit_booking_event
from placements.bookings.models import booking_students, bookings
from placements.offers import errors, repository
from placements.offers.events import emit_offer_event
from placements.supervision.release import release_for_cancelled
from placements.vocabularies import CONFIRMED_STATUSES

REASON: Final = "offer_withdrawn"
WITHDRAWABLE: Final = ("draft", "published", "closed")
# Bookings a withdrawal cancels; in_progress ones refuse it.
OPEN_STATUSES: Final = ("requested", "confirmed")
_LIVE_STATUSES: Final = (*OPEN_STATUSES, "in_progress")


async def _lock_live_bookings(session: AsyncSession, offer_id: uuid.UUID) -> list[RowMapping]:
    # Locked so a booking cannot start or be confirmed between the check and the cancel.
    stmt = (
        select(bookings.c.id, bookings.c.status)
        .where(bookings.c.offer_id == offer_id, bookings.c.status.in_(_LIVE_STATUSES))
        .order_by(bookings.c.id)
        .with_for_update()
    )
    return list((await session.execute(stmt)).mappings())


async def _student_counts(
    session: AsyncSession, booking_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, int]:
    stmt = (
        select(booking_students.c.booking_id, func.count())
        .where(booking_students.c.booking_id.in_(list(booking_ids)))
        .group_by(booking_students.c.booking_id)
    )
    return {booking_id: count for booking_id, count in await session.execute(stmt)}


async def _cancel_bookings(
    session: AsyncSession,
    booking_ids: Sequence[uuid.UUID],
    *,
    detail: str | None,
    cancelled_by: uuid.UUID,
) -> None:
    if not booking_ids:
        return
    await session.execute(
        update(bookings)
        .where(bookings.c.id.in_(list(booking_ids)), bookings.c.status.in_(OPEN_STATUSES))
        .values(
            status="cancelled",
            reason=REASON,
            reason_detail=detail,
            cancelled_by_organisation_id=cancelled_by,
            version=bookings.c.version + 1,
            updated_at=utcnow(),
        )
    )
    counts = await _student_counts(session, booking_ids)
    stmt = select(bookings).where(bookings.c.id.in_(list(booking_ids))).order_by(bookings.c.id)
    for row in (await session.execute(stmt)).mappings():
        await emit_booking_event(
            session, BOOKING_CANCELLED, row, student_count=counts.get(row["id"], 0)
        )
    # Their supervisors are free again (confirmed bookings may have had some).
    await release_for_cancelled(session, booking_ids)


async def _places_still_confirmed(session: AsyncSession, offer_id: uuid.UUID) -> int:
    """Places of the bookings that keep holding them (completed placements)."""
    stmt = select(func.coalesce(func.sum(bookings.c.confirmed_places), 0)).where(
        bookings.c.offer_id == offer_id, bookings.c.status.in_(CONFIRMED_STATUSES)
    )
    return int(await session.scalar(stmt) or 0)


async def withdraw(
    session: AsyncSession, offer: Mapping[Any, Any], *, reason: str | None
) -> RowMapping:
    """Withdraw ``offer`` (loaded for update, its manager checked) and cascade to bookings.

    Returns:
        The withdrawn offer row.

    Raises:
        ProblemError: 409 ``invalid_offer_transition`` when already withdrawn; 409
            ``placements_in_progress`` when students are on placement under it.
    """
    offer_id = offer["id"]
    if offer["status"] not in WITHDRAWABLE:
        raise errors.invalid_offer_transition("withdraw", offer["status"])
    live = await _lock_live_bookings(session, offer_id)
    if any(booking["status"] == "in_progress" for booking in live):
        raise errors.placements_in_progress(offer_id)
    cancelled = [booking["id"] for booking in live]
    await _cancel_bookings(session, cancelled, detail=reason, cancelled_by=offer["provider_id"])
    changed = await repository.change(
        session,
        offer_id,
        {
            "status": "withdrawn",
            "held_places": 0,
            "confirmed_places": await _places_still_confirmed(session, offer_id),
            "updated_at": utcnow(),
        },
        expected_status=WITHDRAWABLE,
    )
    if not changed:  # unreachable under the row lock; kept so a race can never emit
        raise errors.invalid_offer_transition("withdraw", offer["status"])
    (row,) = await repository.get_many(session, [offer_id])
    await emit_offer_event(session, OFFER_WITHDRAWN, row, cancelled_booking_ids=cancelled)
    return row
