"""The booking state machine: its statuses, its legal moves, and the only code that
changes a booking's status.

``requested → confirmed | declined``; ``requested | confirmed → cancelled``;
``confirmed → in_progress → completed``. Every caller goes through ``apply`` (or
``try_apply``): the provider's and university's requests, the date-driven scheduler and
an offer's withdrawal alike. Each move is, in the caller's transaction, the change of the
offer's counters by the places the booking holds before and after, then a conditional
UPDATE of the booking on the status and place counts it was read with, then the release
of the places it gave up from its agreement's quotas, then its event: a lost race
changes and emits nothing. The offer row is always written before the
booking row, so concurrent transactions on PostgreSQL take their locks in one order and
cannot deadlock.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Final

from sqlalchemy.ext.asyncio import AsyncSession
from vfu_common.events.contracts import (
    BOOKING_CANCELLED,
    BOOKING_CONFIRMED,
    BOOKING_DECLINED,
    PLACEMENT_COMPLETED,
    PLACEMENT_STARTED,
    EventContract,
)
from vfu_common.utc import utcnow

from placements.bookings import errors, repository
from placements.bookings.events import emit_booking_event
from placements.bookings.models import Booking
from placements.quotas import counters as quota_counters
from placements.quotas.claims import Claim, claim
from placements.vocabularies import BookingStatus

# A booking holds its requested places on the offer while requested, and its confirmed
# places once confirmed (also while in progress and after completion); none otherwise.
HOLDING_STATUSES: Final[tuple[BookingStatus, ...]] = ("requested",)
CONFIRMED_STATUSES: Final[tuple[BookingStatus, ...]] = ("confirmed", "in_progress", "completed")
# Placements still ahead or under way: they name students, and the agreement watch
# flags them when their agreement ends first.
LIVE_STATUSES: Final[tuple[BookingStatus, ...]] = ("requested", "confirmed", "in_progress")
# Confirmed and not finished: supervisors may be assigned.
SUPERVISABLE_STATUSES: Final[tuple[BookingStatus, ...]] = ("confirmed", "in_progress")


@dataclass(frozen=True)
class Transition:
    """One legal move: from any of ``sources`` to ``target``, announced by ``event``."""

    action: str
    sources: tuple[BookingStatus, ...]
    target: BookingStatus
    event: EventContract


CONFIRM: Final = Transition("confirm", ("requested",), "confirmed", BOOKING_CONFIRMED)
DECLINE: Final = Transition("decline", ("requested",), "declined", BOOKING_DECLINED)
CANCEL: Final = Transition("cancel", ("requested", "confirmed"), "cancelled", BOOKING_CANCELLED)
START: Final = Transition("start", ("confirmed",), "in_progress", PLACEMENT_STARTED)
COMPLETE: Final = Transition("complete", ("in_progress",), "completed", PLACEMENT_COMPLETED)
TRANSITIONS: Final = (CONFIRM, DECLINE, CANCEL, START, COMPLETE)


# A cancellation less than this many days before the placement starts is late (the
# platform's default notice; agreements do not state their own yet).
LATE_CANCELLATION_NOTICE_DAYS: Final = 42


def cancellation(
    booking: Booking,
    *,
    by: uuid.UUID | None,
    reason: str,
    detail: str | None,
    today: date,
) -> dict[str, Any]:
    """The values a cancellation writes: why, by whom, and its lead time (days from the
    day of cancelling to the start), late when under the notice."""
    lead = (booking.start_date - today).days
    return {
        "reason": reason,
        "reason_detail": detail,
        "cancelled_by_organisation_id": by,
        "cancel_lead_days": lead,
        "cancelled_late": lead < LATE_CANCELLATION_NOTICE_DAYS,
    }


def places_taken(status: str, requested: int, confirmed: int) -> tuple[int, int]:
    """(held, confirmed) places a booking in ``status`` takes on its offer."""
    if status in HOLDING_STATUSES:
        return requested, 0
    if status in CONFIRMED_STATUSES:
        return 0, confirmed
    return 0, 0


def opened(values: dict[str, Any], *, auto_confirm: bool) -> tuple[dict[str, Any], ...]:
    """A new booking's row as each state it passes on creation announces it.

    ``values`` are its columns but the status and version. Returns the requested row, and
    on an auto-confirm offer (whose places the booking UPDATE confirmed at once) the
    confirmed one too: written once in the final state, announced as both steps.
    """
    requested = {**values, "status": "requested", "confirmed_places": 0, "version": 1}
    if not auto_confirm:
        return (requested,)
    places = values["requested_places"]
    return requested, {**requested, "status": "confirmed", "confirmed_places": places, "version": 2}


async def try_apply(
    session: AsyncSession,
    booking: Booking,
    transition: Transition,
    *,
    values: Mapping[str, Any] | None = None,
    confirmed_places: int | None = None,
    now: datetime | None = None,
    offer_counters: bool = True,
) -> tuple[Booking, list[str]] | None:
    """Move ``booking`` (as read) by ``transition``; the new row and its students, or None
    when it is not (or no longer) in a source status.

    ``confirmed_places`` is what a confirmation confirms (default: what it holds);
    ``values`` are further columns the move sets (a reason, who cancelled).
    ``offer_counters=False`` leaves the offer's counters to a caller that sets them
    itself in the same transaction (an offer's withdrawal, in one change of the offer).
    """
    if booking.status not in transition.sources:
        return None
    now = now or utcnow()
    places = booking.confirmed_places if confirmed_places is None else confirmed_places
    held_before, confirmed_before = places_taken(
        booking.status, booking.requested_places, booking.confirmed_places
    )
    held_after, confirmed_after = places_taken(transition.target, booking.requested_places, places)
    held, confirmed = held_after - held_before, confirmed_after - confirmed_before
    if (
        offer_counters
        and (held or confirmed)
        and not await repository.move_offer_places(
            session, booking.offer_id, held=held, confirmed=confirmed, now=now
        )
    ):
        # A concurrent move of this booking released the places first.
        return None
    changes = {
        **(values or {}),
        "status": transition.target,
        "confirmed_places": places,
        "updated_at": now,
    }
    row = await repository.update_if_unchanged(session, booking, values=changes)
    if row is None:
        # Changed since it was read (an offer change above is rolled back with this).
        return None
    released = held_before + confirmed_before - held_after - confirmed_after
    if released > 0 and row.agreement_id is not None:
        await quota_counters.release(session, row.agreement_id, _claim_of(row, released))
    students = await repository.student_ids(session, booking.id)
    await emit_booking_event(session, transition.event, row, student_count=len(students))
    return row, students


def _claim_of(row: Booking, places: int) -> Claim:
    return claim(
        university_id=row.university_id,
        term=row.term,
        codes=(row.programme_code, row.profession_code),
        start=row.start_date,
        end=row.end_date,
        places=places,
    )


# How often ``apply`` re-reads a booking a concurrent move changed and tries again. Each
# retry follows a committed move of the same booking, and the state machine has no
# cycles, so a booking can only be moved a few times before ``apply`` must refuse.
APPLY_ATTEMPTS: Final = len(TRANSITIONS) + 1


async def apply(
    session: AsyncSession,
    booking: Booking,
    transition: Transition,
    *,
    values: Mapping[str, Any] | None = None,
    confirmed_places: int | None = None,
    offer_counters: bool = True,
) -> tuple[Booking, list[str]]:
    """``try_apply``, refusing with 409 ``invalid_booking_transition`` (naming the status
    the booking is in now) when the move is not legal.

    A party's request must have the outcome it would have had in some serial order of the
    concurrent requests. When a concurrent move of the same booking commits between our
    read and our write (PostgreSQL's READ COMMITTED lets that happen), the move is tried
    again on the booking as it is now, inside a savepoint so a half-done attempt leaves
    nothing behind: a cancellation that lost the race to a confirmation then cancels the
    confirmed booking, as it would have had it come second, instead of being refused.
    """
    for _ in range(APPLY_ATTEMPTS):
        async with session.begin_nested() as savepoint:
            moved = await try_apply(
                session,
                booking,
                transition,
                values=values,
                confirmed_places=confirmed_places,
                offer_counters=offer_counters,
            )
            if moved is None:
                await savepoint.rollback()
        if moved is not None:
            return moved
        if booking.status not in transition.sources:
            break
        current = await repository.get_booking(session, booking.id)
        if current is None:
            raise errors.invalid_transition(transition.action, "gone")
        booking = current  # still movable (or not): the move starts from what it is now
    raise errors.invalid_transition(transition.action, booking.status)
