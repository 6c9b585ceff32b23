"""Withdrawing an offer: its open bookings are cancelled, never silently.

In the withdrawal's own transaction every requested or confirmed booking on the offer is
cancelled with reason ``offer_withdrawn`` by the booking state machine (its own
``booking.cancelled`` event is written, its supervisors are released), the offer's
counters lose their places in the one change that withdraws it, and ``offer.withdrawn``
lists them. Students already on placement cannot be
cancelled by a withdrawal, so an ``in_progress`` booking refuses it; completed bookings
are history and stay.
"""

from __future__ import annotations

from typing import Final

from sqlalchemy.ext.asyncio import AsyncSession

from placements.bookings import repository as bookings
from placements.bookings import transitions as booking_transitions
from placements.calendar import CALENDAR
from placements.offers import errors
from placements.offers import transitions as offer_transitions
from placements.offers.models import Offer
from placements.supervision.release import release_for_cancelled

REASON: Final = "offer_withdrawn"


async def withdraw(session: AsyncSession, offer: Offer, *, reason: str | None) -> Offer:
    """Withdraw ``offer`` (loaded for update, its manager checked) and cascade to bookings.

    Returns:
        The withdrawn offer row.

    Raises:
        ProblemError: 409 ``invalid_offer_transition`` when already withdrawn; 409
            ``placements_in_progress`` when students are on placement under it.
    """
    offer_transitions.require_legal(offer, offer_transitions.WITHDRAW)
    # Locked so that a booking cannot start or be confirmed between the check and the
    # cancellations.
    live = await bookings.live_on_offer_for_update(
        session, offer.id, booking_transitions.LIVE_STATUSES
    )
    if any(booking.status not in booking_transitions.CANCEL.sources for booking in live):
        raise errors.placements_in_progress(offer.id)
    held, confirmed = offer.held_places, offer.confirmed_places
    today = CALENDAR.today()
    for booking in live:
        await booking_transitions.apply(
            session,
            booking,
            booking_transitions.CANCEL,
            values=booking_transitions.cancellation(
                booking, by=offer.provider_id, reason=REASON, detail=reason, today=today
            ),
            offer_counters=False,
        )
        released_held, released_confirmed = booking_transitions.places_taken(
            booking.status, booking.requested_places, booking.confirmed_places
        )
        held, confirmed = held - released_held, confirmed - released_confirmed
    cancelled = [booking.id for booking in live]
    # Their supervisors are free again (confirmed bookings may have had some).
    await release_for_cancelled(session, cancelled)
    return await offer_transitions.apply(
        session,
        offer,
        offer_transitions.WITHDRAW,
        values={"held_places": held, "confirmed_places": confirmed},
        cancelled_booking_ids=cancelled,
    )
