"""Rules of bookings: requesting places without ever overbooking, reading, and each
party's moves of the booking state machine (``bookings.transitions``).

Requesting takes the places in one conditional UPDATE of the offer, then checks the
agreement gate (``bookings.gate``) on the row it returned; a refusal rolls the whole
transaction back. Every later change of status goes through ``bookings.transitions``.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from vfu_common.events.contracts import BOOKING_CONFIRMED, BOOKING_REQUESTED
from vfu_common.idempotency import IdempotencyGuard, StoredResponse
from vfu_common.pagination import PageParams, encode_cursor, invalid_cursor
from vfu_common.principal import Principal
from vfu_common.rows import values_of
from vfu_common.utc import utcnow
from vfu_common.uuid7 import new_id

from placements.bookings import access, errors, gate, repository, transitions
from placements.bookings.events import emit_booking_event
from placements.bookings.models import Booking
from placements.bookings.schemas import (
    BookingConfirm,
    BookingCreate,
    BookingFilters,
    BookingOut,
    BookingReason,
    BookingStudents,
)
from placements.calendar import CALENDAR
from placements.offers.models import Offer
from placements.supervision.release import release_for_cancelled, release_for_completed

CREATE_OPERATION = "POST /api/v1/placements/bookings"
# The offer fields a booking copies, so that reading or announcing it never joins the offer.
BOOKED_OFFER_FIELDS = (
    "unit_id",
    "provider_id",
    "programme_code",
    "profession_code",
    "term",
    "start_date",
    "end_date",
    "supervision_model",
)


# --- requesting ------------------------------------------------------------------------


def _require_university(principal: Principal) -> uuid.UUID:
    access.require_not_portal(principal)
    if not principal.has_role("university") or principal.organisation_id is None:
        raise errors.forbidden("Bookings are requested by universities for themselves.")
    return principal.organisation_id


async def request_booking(
    session: AsyncSession,
    *,
    data: BookingCreate,
    principal: Principal,
    idempotency_key: str | None,
) -> tuple[StoredResponse, bool]:
    """Book ``data.places`` on an offer for the caller's university.

    Returns the response and whether it is a replay: the stored response of an earlier
    request with the same ``Idempotency-Key``, byte for byte, or the new 201.

    The refusals come in this order: the offer must be visible to the university (404
    ``offer_not_found``), published (409 ``offer_not_bookable``), covered by an active
    agreement (409 ``no_active_agreement``), have the places free (409
    ``capacity_exceeded``) and fit every ceiling quota of the agreement (409
    ``quota_exceeded``). The places are taken first, in one conditional UPDATE that
    returns the offer, and every check runs on that row; a refusal rolls the whole
    transaction back. That keeps the accepted path to few round trips (the service's hot
    path), and on PostgreSQL the offer's row lock is taken after the agreement terms are
    read, so it is held only while the booking is written.

    Raises:
        ProblemError: 403 not a university; the refusals above; 422/409 from the
            idempotency guard.
    """
    university_id = _require_university(principal)
    guard = IdempotencyGuard.for_request(
        principal.subject, idempotency_key, CREATE_OPERATION, data.model_dump(mode="json")
    )
    if (stored := await guard.claim(session)) is not None:
        return stored, True
    terms = await repository.terms_for_offer(
        session, university_id=university_id, offer_id=data.offer_id
    )
    now = utcnow()
    offer = await repository.take_places(session, data.offer_id, data.places, now=now)
    if offer is None:
        raise await gate.why_not_taken(session, data, terms, university_id)
    gate.require_visible_offer(offer, terms)
    agreement_id = gate.covering_agreement(terms, offer, university_id)
    await gate.count_against_quotas(session, terms, agreement_id, offer, university_id, data.places)
    row = await _write_booking(session, offer, data, university_id, agreement_id, principal, now)
    body = BookingOut.from_row(row, data.student_ids).model_dump_json()
    await guard.remember(session, 201, body)
    return StoredResponse(201, body), False


async def _write_booking(
    session: AsyncSession,
    offer: Offer,
    data: BookingCreate,
    university_id: uuid.UUID,
    agreement_id: uuid.UUID,
    principal: Principal,
    now: datetime,
) -> Booking:
    """Write the booking, its students and its events; the booking row as written."""
    return await write_booking(
        session,
        offer,
        NewBooking(
            university_id=university_id,
            agreement_id=agreement_id,
            places=data.places,
            course_code=data.course_code,
            course_instance=data.course_instance,
            note=data.note,
            student_ids=tuple(data.student_ids),
            round_id=None,
        ),
        subject=principal.subject,
        confirmed=offer.auto_confirm,
        now=now,
    )


@dataclass(frozen=True)
class NewBooking:
    """What a booking is made of besides its offer."""

    university_id: uuid.UUID
    agreement_id: uuid.UUID
    places: int
    course_code: str
    course_instance: str
    note: str | None
    student_ids: tuple[str, ...]
    round_id: uuid.UUID | None


async def write_booking(
    session: AsyncSession,
    offer: Offer,
    new: NewBooking,
    *,
    subject: str,
    confirmed: bool,
    now: datetime,
) -> Booking:
    """Write a booking whose places the caller has taken on ``offer`` (held, or confirmed
    when ``confirmed``), its students and its events; the row as written."""
    values: dict[str, Any] = {
        "id": new_id(),
        "offer_id": offer.id,
        **{name: getattr(offer, name) for name in BOOKED_OFFER_FIELDS},
        "university_id": new.university_id,
        "course_code": new.course_code,
        "course_instance": new.course_instance,
        "requested_places": new.places,
        "reason": None,
        "reason_detail": None,
        "cancelled_by_organisation_id": None,
        "cancel_lead_days": None,
        "cancelled_late": None,
        "agreement_id": new.agreement_id,
        "agreement_ends_on": None,
        "round_id": new.round_id,
        "note": new.note,
        "created_by": subject,
        "created_at": now,
        "updated_at": now,
    }
    opened = transitions.opened(values, auto_confirm=confirmed)
    states = [Booking(**state) for state in opened]
    row = states[-1]
    await repository.insert_booking(session, values_of(row))
    await repository.add_students(session, row.id, list(new.student_ids), now=now)
    count = len(new.student_ids)
    for contract, state in zip((BOOKING_REQUESTED, BOOKING_CONFIRMED), states, strict=False):
        await emit_booking_event(session, contract, state, student_count=count)
    return row


# --- reading ---------------------------------------------------------------------------


async def get_booking(
    session: AsyncSession, booking_id: uuid.UUID, *, principal: Principal
) -> BookingOut:
    """One booking the caller may see."""
    booking = await _load_visible(session, booking_id, principal)
    return BookingOut.from_row(booking, await repository.student_ids(session, booking_id))


async def list_bookings(
    session: AsyncSession, *, principal: Principal, filters: BookingFilters, page: PageParams
) -> tuple[list[BookingOut], str | None]:
    """A page of the caller's bookings, oldest first; the next cursor if there are more."""
    visible = access.list_filter(principal)
    rows = await repository.page(
        session,
        visible=visible,
        offer_id=filters.offer_id,
        status=filters.status,
        after=_after(page),
        limit=page.limit + 1,
    )
    items = rows[: page.limit]
    students = await repository.students_of(session, [row.id for row in items])
    out = [BookingOut.from_row(row, students[row.id]) for row in items]
    more = len(rows) > page.limit
    return out, encode_cursor({"after": str(items[-1].id)}) if more else None


def _after(page: PageParams) -> uuid.UUID | None:
    if page.cursor is None:
        return None
    try:
        return uuid.UUID(str(page.cursor["after"]))
    except (KeyError, ValueError) as exc:
        raise invalid_cursor() from exc


async def _load_visible(
    session: AsyncSession, booking_id: uuid.UUID, principal: Principal
) -> Booking:
    booking = await repository.get_booking(session, booking_id)
    return access.require_visible(principal, booking, booking_id)


# --- the parties' moves ----------------------------------------------------------------


async def confirm(
    session: AsyncSession, booking_id: uuid.UUID, *, data: BookingConfirm, principal: Principal
) -> BookingOut:
    """The provider confirms all requested places or fewer; the rest are released."""
    booking = await _load_visible(session, booking_id, principal)
    access.require_provider(principal, booking)
    places = booking.requested_places if data.places is None else data.places
    if booking.status == "requested" and places > booking.requested_places:
        raise errors.too_many_places(places, booking.requested_places)
    row, students = await transitions.apply(
        session, booking, transitions.CONFIRM, confirmed_places=places
    )
    if len(students) > places:
        # Raised inside the unit of work: the confirmation, counters and event roll back.
        raise errors.too_many_students(len(students), places)
    return BookingOut.from_row(row, students)


async def decline(
    session: AsyncSession, booking_id: uuid.UUID, *, data: BookingReason, principal: Principal
) -> BookingOut:
    """The provider declines a request; its held places are free again."""
    booking = await _load_visible(session, booking_id, principal)
    access.require_provider(principal, booking)
    row, students = await transitions.apply(
        session,
        booking,
        transitions.DECLINE,
        values={"reason": data.reason, "reason_detail": data.detail},
    )
    return BookingOut.from_row(row, students)


async def cancel(
    session: AsyncSession, booking_id: uuid.UUID, *, data: BookingReason, principal: Principal
) -> BookingOut:
    """Either party cancels a requested or confirmed booking; its places are released."""
    booking = await _load_visible(session, booking_id, principal)
    access.require_party(principal, booking)
    row, students = await transitions.apply(
        session,
        booking,
        transitions.CANCEL,
        values=transitions.cancellation(
            booking,
            by=principal.organisation_id,
            reason=data.reason,
            detail=data.detail,
            today=CALENDAR.today(),
        ),
    )
    await release_for_cancelled(session, [booking_id])
    return BookingOut.from_row(row, students)


async def start(
    session: AsyncSession, booking_id: uuid.UUID, *, principal: Principal
) -> BookingOut:
    """The provider starts a confirmed placement (also done by date: ``start_if_due``)."""
    booking = await _load_visible(session, booking_id, principal)
    access.require_provider(principal, booking)
    row, students = await transitions.apply(session, booking, transitions.START)
    return BookingOut.from_row(row, students)


async def complete(
    session: AsyncSession, booking_id: uuid.UUID, *, principal: Principal
) -> BookingOut:
    """The provider completes a placement in progress (also done by date)."""
    booking = await _load_visible(session, booking_id, principal)
    access.require_provider(principal, booking)
    row, students = await transitions.apply(session, booking, transitions.COMPLETE)
    await release_for_completed(session, row)
    return BookingOut.from_row(row, students)


async def set_students(
    session: AsyncSession, booking_id: uuid.UUID, *, data: BookingStudents, principal: Principal
) -> BookingOut:
    """The booking university names its students (the whole set, replacing the last one)."""
    booking = await _load_visible(session, booking_id, principal)
    access.require_booking_university(principal, booking)
    if booking.status not in transitions.LIVE_STATUSES:
        raise errors.invalid_transition("name students of", booking.status)
    places = booking.requested_places if booking.status == "requested" else booking.confirmed_places
    if len(data.student_ids) > places:
        raise errors.too_many_students(len(data.student_ids), places)
    now = utcnow()
    row = await repository.update_if_unchanged(session, booking, values={"updated_at": now})
    if row is None:
        current = await repository.get_booking(session, booking_id)
        raise errors.invalid_transition("name students of", current.status if current else "gone")
    await repository.replace_students(session, booking_id, data.student_ids, now=now)
    return BookingOut.from_row(row, sorted(data.student_ids))


# --- by date (the lifecycle scheduler) -------------------------------------------------


async def due_starts(session: AsyncSession, today: date) -> list[uuid.UUID]:
    """Bookings whose placement should have started by ``today``."""
    return await repository.starting_by(session, today, transitions.START.sources)


async def due_completions(session: AsyncSession, today: date) -> list[uuid.UUID]:
    """Placements whose last day is before ``today``."""
    return await repository.ended_before(session, today, transitions.COMPLETE.sources)


async def start_if_due(session: AsyncSession, booking_id: uuid.UUID, *, today: date) -> bool:
    """Start a confirmed placement whose first day has come; False if not (any more)."""
    booking = await repository.get_booking(session, booking_id)
    if booking is None or booking.start_date > today:
        return False
    return await transitions.try_apply(session, booking, transitions.START) is not None


async def complete_if_due(session: AsyncSession, booking_id: uuid.UUID, *, today: date) -> bool:
    """Complete a placement in progress whose last day has passed; False if not."""
    booking = await repository.get_booking(session, booking_id)
    if booking is None or booking.end_date >= today:
        return False
    moved = await transitions.try_apply(session, booking, transitions.COMPLETE)
    if moved is None:  # another replica (or the provider) moved it first
        return False
    await release_for_completed(session, moved[0])
    return True
