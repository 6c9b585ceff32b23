"""Bookings made by a published allocation: confirmed at once, the round their origin.

The same guarantees as a booking a university requests: the places are taken by the
conditional UPDATE (never overbooked), counted against the agreement's ceilings (never
over quota), and announced as requested then confirmed. A place that is no longer free,
or a ceiling that no longer has room, returns the refusal to the caller, who rolls the
whole publication back.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from placements.bookings import errors, gate, repository
from placements.bookings.models import Booking
from placements.bookings.service import NewBooking, write_booking


@dataclass(frozen=True)
class AllocatedPlaces:
    """Places of one line on one offer, under the agreement the run found covering."""

    offer_id: uuid.UUID
    university_id: uuid.UUID
    agreement_id: uuid.UUID
    places: int
    course_code: str
    course_instance: str


async def book(
    session: AsyncSession,
    allocated: AllocatedPlaces,
    *,
    round_id: uuid.UUID,
    subject: str,
    now: datetime,
) -> Booking:
    """Book and confirm the places.

    Raises:
        ProblemError: 409 ``capacity_exceeded`` (or the offer's refusal) when the places
            are not free; 409 ``no_active_agreement``; 409 ``quota_exceeded``.
    """
    # Terms first, then the offer's row: the lock order of every booking (``service``).
    terms = await repository.terms_for_offer(
        session, university_id=allocated.university_id, offer_id=allocated.offer_id
    )
    offer = await repository.take_confirmed_places(
        session, allocated.offer_id, allocated.places, now=now
    )
    if offer is None:
        found = await repository.get_offer(session, allocated.offer_id)
        if found is None:
            raise errors.offer_not_found(allocated.offer_id)
        if found.status != "published":
            raise errors.offer_not_bookable(allocated.offer_id, found.status)
        free = found.places - found.held_places - found.confirmed_places
        raise errors.capacity_exceeded(allocated.places, free)
    agreement_id = gate.covering_agreement(terms, offer, allocated.university_id)
    await gate.count_against_quotas(
        session, terms, agreement_id, offer, allocated.university_id, allocated.places
    )
    new = NewBooking(
        university_id=allocated.university_id,
        agreement_id=agreement_id,
        places=allocated.places,
        course_code=allocated.course_code,
        course_instance=allocated.course_instance,
        note=None,
        student_ids=(),
        round_id=round_id,
    )
    return await write_booking(session, offer, new, subject=subject, confirmed=True, now=now)
