"""Rules of bookings: the agreement gate, never overbooking, and the booking state machine.

``requested → confirmed | declined``; ``requested | confirmed → cancelled``;
``confirmed → in_progress → completed``. Every change is one transaction holding a
conditional UPDATE of the booking (on its status and place counts as read), the matching
change of the offer's counters, and the event, so a lost race changes and emits nothing.
The offer row is always written before the booking row (booking creation, transitions,
an offer's withdrawal alike), so concurrent transactions on PostgreSQL take their locks in
one order and cannot deadlock.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from vfu_common.errors import ProblemError
from vfu_common.events.contracts import (
    BOOKING_CANCELLED,
    BOOKING_CONFIRMED,
    BOOKING_DECLINED,
    BOOKING_REQUESTED,
    PLACEMENT_COMPLETED,
    PLACEMENT_STARTED,
    AgreementTermsV1,
    EventContract,
)
from vfu_common.idempotency import IdempotencyGuard, StoredResponse
from vfu_common.pagination import PageParams, encode_cursor, invalid_cursor
from vfu_common.principal import Principal
from vfu_common.utc import utcnow
from vfu_common.uuid7 import new_id
from vfu_domain.coverage import CoverageDecision, CoverageQuery, decide_coverage

from placements.bookings import access, errors, repository
from placements.bookings.events import emit_booking_event
from placements.bookings.repository import BOOKED_OFFER_FIELDS, Row
from placements.bookings.schemas import (
    BookingConfirm,
    BookingCreate,
    BookingFilters,
    BookingOut,
    BookingReason,
    BookingStudents,
)
from placements.offers.access import LIVE_AGREEMENT_STATUSES
from placements.supervision.release import release_for_cancelled, release_for_completed
from placements.vocabularies import CONFIRMED_STATUSES, HOLDING_STATUSES

CREATE_OPERATION = "POST /api/v1/placements/bookings"
# Statuses whose booking may still name (or change) its students.
STUDENT_STATUSES = ("requested", "confirmed", "in_progress")


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
    agreement (409 ``no_active_agreement``) and have the places free (409
    ``capacity_exceeded``). The places are taken first, in one conditional UPDATE that
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
        raise await _why_not_taken(session, data, terms, university_id)
    _require_visible_offer(offer, terms)
    agreement_id = _covering_agreement(terms, offer, university_id)
    row = await _write_booking(session, offer, data, university_id, agreement_id, principal, now)
    body = BookingOut.from_row(row, data.student_ids).model_dump_json()
    await guard.remember(session, 201, body)
    return StoredResponse(201, body), False


def _require_visible_offer(offer: Row, terms: Sequence[AgreementTermsV1]) -> None:
    """A university sees published offers for everyone, and partners-only offers of
    providers it has a live agreement with (``offers.access``, decided here from the terms
    the gate reads anyway: they are exactly the agreements naming both parties)."""
    if offer["status"] == "draft":  # drafts are their provider's alone
        raise errors.offer_not_found(offer["id"])
    if offer["visibility"] == "partners" and not any(
        t.status in LIVE_AGREEMENT_STATUSES for t in terms
    ):
        raise errors.offer_not_found(offer["id"])


def _covering_agreement(
    terms: Sequence[AgreementTermsV1], offer: Row, university_id: uuid.UUID
) -> uuid.UUID:
    """The agreement version covering the placement, from the service's own projection."""
    decision = covering_decision(terms, offer, university_id)
    if decision.agreement is None:
        raise errors.NoActiveAgreementError(decision.reason, decision.detail)
    return decision.agreement.agreement_id


def covering_decision(
    terms: Sequence[AgreementTermsV1], offer: Row, university_id: uuid.UUID
) -> CoverageDecision:
    """The coverage rule for the offer, by its programme code and then its profession code.

    An agreement may list the programme (``sjukskoterskeprogrammet``) or only the
    profession (``sjukskoterska``); either covers. When neither does, the refusal for the
    programme is given unless the programme is what failed (then the profession's).
    """
    codes = [c for c in (offer["programme_code"], offer["profession_code"]) if c]
    decision: CoverageDecision | None = None
    for code in dict.fromkeys(codes):
        query = CoverageQuery(
            university_id=university_id,
            provider_id=offer["provider_id"],
            programme_code=code,
            start=offer["start_date"],
            end=offer["end_date"],
            unit_id=offer["unit_id"],
            municipality_code=offer["municipality_code"],
        )
        attempt = decide_coverage(terms, query)
        if attempt.covered:
            return attempt
        if decision is None or decision.reason == "programme_not_covered":
            decision = attempt
    assert decision is not None  # profession_code is NOT NULL
    return decision


async def _why_not_taken(
    session: AsyncSession,
    data: BookingCreate,
    terms: Sequence[AgreementTermsV1],
    university_id: uuid.UUID,
) -> Exception:
    """The refusal for a conditional UPDATE that took nothing, by the rules' order."""
    offer = await repository.get_offer(session, data.offer_id)
    if offer is None:
        return errors.offer_not_found(data.offer_id)
    try:
        _require_visible_offer(offer, terms)
        if offer["status"] != "published":
            return errors.offer_not_bookable(data.offer_id, offer["status"])
        _covering_agreement(terms, offer, university_id)
    except ProblemError as refusal:
        return refusal
    free = offer["places"] - offer["held_places"] - offer["confirmed_places"]
    return errors.capacity_exceeded(data.places, max(free, 0))


async def _write_booking(
    session: AsyncSession,
    offer: Row,
    data: BookingCreate,
    university_id: uuid.UUID,
    agreement_id: uuid.UUID,
    principal: Principal,
    now: datetime,
) -> dict[str, Any]:
    """Write the booking, its students and its events; the booking row as written."""
    row: dict[str, Any] = {
        "id": new_id(),
        "offer_id": offer["id"],
        **{name: offer[name] for name in BOOKED_OFFER_FIELDS},
        "university_id": university_id,
        "course_code": data.course_code,
        "course_instance": data.course_instance,
        "requested_places": data.places,
        "confirmed_places": 0,
        "status": "requested",
        "reason": None,
        "reason_detail": None,
        "cancelled_by_organisation_id": None,
        "agreement_id": agreement_id,
        "agreement_ends_on": None,
        "note": data.note,
        "created_by": principal.subject,
        "version": 1,
        "created_at": now,
        "updated_at": now,
    }
    requested = dict(row)
    if offer["auto_confirm"]:
        # The UPDATE confirmed the places at once: requested and confirmed in one
        # transaction, written once in the final state, announced as both steps.
        row |= {"status": "confirmed", "confirmed_places": data.places, "version": 2}
    await repository.insert_booking(session, row)
    await repository.add_students(session, row["id"], data.student_ids, now=now)
    count = len(data.student_ids)
    await emit_booking_event(session, BOOKING_REQUESTED, requested, student_count=count)
    if offer["auto_confirm"]:
        await emit_booking_event(session, BOOKING_CONFIRMED, row, student_count=count)
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
    after = _after(page)
    rows = await repository.page(
        session,
        visible=visible,
        offer_id=filters.offer_id,
        status=filters.status,
        after=after,
        limit=page.limit + 1,
    )
    items = rows[: page.limit]
    students = await repository.students_of(session, [row["id"] for row in items])
    out = [BookingOut.from_row(row, students[row["id"]]) for row in items]
    more = len(rows) > page.limit
    return out, encode_cursor({"after": str(items[-1]["id"])}) if more else None


def _after(page: PageParams) -> uuid.UUID | None:
    if page.cursor is None:
        return None
    try:
        return uuid.UUID(str(page.cursor["after"]))
    except (KeyError, ValueError) as exc:
        raise invalid_cursor() from exc


async def _load_visible(session: AsyncSession, booking_id: uuid.UUID, principal: Principal) -> Row:
    booking = await repository.get_booking(session, booking_id)
    return access.require_visible(principal, booking, booking_id)


# --- transitions -----------------------------------------------------------------------


async def _transition(
    session: AsyncSession,
    booking: Row,
    *,
    action: str,
    expected: Sequence[str],
    values: Row,
    contract: EventContract | None,
    held: int = 0,
    confirmed: int = 0,
) -> tuple[Row, list[str]]:
    """Apply one change: offer counters, then the booking (conditionally), then the event.

    Returns the new row and the booking's students.
    """
    if booking["status"] not in expected:
        raise errors.invalid_transition(action, booking["status"])
    now = utcnow()
    row = None
    if not (held or confirmed) or await repository.move_offer_places(
        session, booking["offer_id"], held=held, confirmed=confirmed, now=now
    ):
        row = await repository.transition(session, booking, values={**values, "updated_at": now})
    if row is None:
        # Changed since it was read (an offer change above is rolled back with this).
        current = await repository.get_booking(session, booking["id"])
        raise errors.invalid_transition(action, current["status"] if current else "gone")
    students = await repository.student_ids(session, booking["id"])
    if contract is not None:
        await emit_booking_event(session, contract, row, student_count=len(students))
    return row, students


async def confirm(
    session: AsyncSession, booking_id: uuid.UUID, *, data: BookingConfirm, principal: Principal
) -> BookingOut:
    """The provider confirms all requested places or fewer; the rest are released."""
    booking = await _load_visible(session, booking_id, principal)
    access.require_provider(principal, booking)
    requested = int(booking["requested_places"])
    places = requested if data.places is None else data.places
    if booking["status"] == "requested" and places > requested:
        raise errors.too_many_places(places, requested)
    row, students = await _transition(
        session,
        booking,
        action="confirm",
        expected=("requested",),
        values={"status": "confirmed", "confirmed_places": places},
        contract=BOOKING_CONFIRMED,
        held=-requested,
        confirmed=places,
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
    row, students = await _transition(
        session,
        booking,
        action="decline",
        expected=("requested",),
        values={"status": "declined", "reason": data.reason, "reason_detail": data.detail},
        contract=BOOKING_DECLINED,
        held=-int(booking["requested_places"]),
    )
    return BookingOut.from_row(row, students)


async def cancel(
    session: AsyncSession, booking_id: uuid.UUID, *, data: BookingReason, principal: Principal
) -> BookingOut:
    """Either party cancels a requested or confirmed booking; its places are released."""
    booking = await _load_visible(session, booking_id, principal)
    access.require_party(principal, booking)
    held, confirmed = _places_taken(booking)
    row, students = await _transition(
        session,
        booking,
        action="cancel",
        expected=("requested", "confirmed"),
        values={
            "status": "cancelled",
            "reason": data.reason,
            "reason_detail": data.detail,
            "cancelled_by_organisation_id": principal.organisation_id,
        },
        contract=BOOKING_CANCELLED,
        held=-held,
        confirmed=-confirmed,
    )
    await release_for_cancelled(session, [booking_id])
    return BookingOut.from_row(row, students)


def _places_taken(booking: Row) -> tuple[int, int]:
    """(held, confirmed) places the booking takes on its offer in its current status."""
    if booking["status"] in HOLDING_STATUSES:
        return int(booking["requested_places"]), 0
    if booking["status"] in CONFIRMED_STATUSES:
        return 0, int(booking["confirmed_places"])
    return 0, 0


async def start(
    session: AsyncSession, booking_id: uuid.UUID, *, principal: Principal
) -> BookingOut:
    """The provider starts a confirmed placement (also done by date, see ``bookings.scheduler``)."""
    booking = await _load_visible(session, booking_id, principal)
    access.require_provider(principal, booking)
    row, students = await _transition(
        session,
        booking,
        action="start",
        expected=("confirmed",),
        values={"status": "in_progress"},
        contract=PLACEMENT_STARTED,
    )
    return BookingOut.from_row(row, students)


async def complete(
    session: AsyncSession, booking_id: uuid.UUID, *, principal: Principal
) -> BookingOut:
    """The provider completes a placement in progress (also done by date)."""
    booking = await _load_visible(session, booking_id, principal)
    access.require_provider(principal, booking)
    row, students = await _transition(
        session,
        booking,
        action="complete",
        expected=("in_progress",),
        values={"status": "completed"},
        contract=PLACEMENT_COMPLETED,
    )
    await release_for_completed(session, row)
    return BookingOut.from_row(row, students)


async def set_students(
    session: AsyncSession, booking_id: uuid.UUID, *, data: BookingStudents, principal: Principal
) -> BookingOut:
    """The booking university names its students (the whole set, replacing the last one)."""
    booking = await _load_visible(session, booking_id, principal)
    access.require_booking_university(principal, booking)
    status = booking["status"]
    if status not in STUDENT_STATUSES:
        raise errors.invalid_transition("name students of", status)
    places = int(
        booking["requested_places"] if status == "requested" else booking["confirmed_places"]
    )
    if len(data.student_ids) > places:
        raise errors.too_many_students(len(data.student_ids), places)
    now = utcnow()
    row = await repository.transition(session, booking, values={"updated_at": now})
    if row is None:
        current = await repository.get_booking(session, booking_id)
        raise errors.invalid_transition(
            "name students of", current["status"] if current else "gone"
        )
    await repository.replace_students(session, booking_id, data.student_ids, now=now)
    return BookingOut.from_row(row, sorted(data.student_ids))


# --- by date (the lifecycle scheduler) -------------------------------------------------


async def start_if_due(session: AsyncSession, booking_id: uuid.UUID, *, today: date) -> bool:
    """Start a confirmed placement whose first day has come; False if not (any more)."""
    return await _by_date(
        session,
        booking_id,
        expected="confirmed",
        due=lambda b: b["start_date"] <= today,
        status="in_progress",
        contract=PLACEMENT_STARTED,
    )


async def complete_if_due(session: AsyncSession, booking_id: uuid.UUID, *, today: date) -> bool:
    """Complete a placement in progress whose last day has passed; False if not."""
    return await _by_date(
        session,
        booking_id,
        expected="in_progress",
        due=lambda b: b["end_date"] < today,
        status="completed",
        contract=PLACEMENT_COMPLETED,
    )


async def _by_date(
    session: AsyncSession,
    booking_id: uuid.UUID,
    *,
    expected: str,
    due: Any,
    status: str,
    contract: EventContract,
) -> bool:
    booking = await repository.get_booking(session, booking_id)
    if booking is None or booking["status"] != expected or not due(booking):
        return False
    row = await repository.transition(
        session, booking, values={"status": status, "updated_at": utcnow()}
    )
    if row is None:  # another replica (or the provider) moved it first
        return False
    count = await repository.student_count(session, booking_id)
    await emit_booking_event(session, contract, row, student_count=count)
    if status == "completed":
        await release_for_completed(session, row)
    return True
