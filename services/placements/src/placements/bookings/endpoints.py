"""HTTP endpoints of the bookings feature: parse, call one service function, answer."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Body, Depends, Response, status
from vfu_common.errors import problem_responses
from vfu_common.idempotency import IdempotencyKeyHeader
from vfu_common.pagination import Page
from vfu_common.web.deps import DatabaseDep, PageDep, PrincipalDep

from placements.bookings import service
from placements.bookings.schemas import (
    BookingConfirm,
    BookingCreate,
    BookingFilters,
    BookingOut,
    BookingReason,
    BookingStudents,
)

router = APIRouter(prefix="/api/v1/placements", tags=["bookings"])
BOOKINGS = "/bookings"
ONE = BOOKINGS + "/{booking_id}"
_TRANSITION_PROBLEMS = problem_responses(401, 403, 404, 409, 422, 503)


@router.post(
    BOOKINGS,
    status_code=status.HTTP_201_CREATED,
    response_model=BookingOut,
    responses=problem_responses(401, 403, 404, 409, 422, 503),
    summary="Request places on an offer",
)
async def request_booking(
    body: BookingCreate,
    db: DatabaseDep,
    principal: PrincipalDep,
    idempotency_key: IdempotencyKeyHeader = None,
) -> Response:
    """Book places for the caller's university; confirmed at once on auto-confirm offers.

    Refused with 404 ``offer_not_found``, 409 ``offer_not_bookable``,
    ``no_active_agreement`` (the detail starts with the coverage rule's reason, e.g.
    ``dates_not_covered:``) or ``capacity_exceeded``. With ``Idempotency-Key`` a retry
    returns the first answer (header ``Idempotent-Replayed``) and books nothing more.
    """
    async with db.write() as session:
        stored, replayed = await service.request_booking(
            session, data=body, principal=principal, idempotency_key=idempotency_key
        )
    if replayed:
        return stored.as_response()
    # The JSON stored for replays is the answer: no second serialisation.
    return Response(stored.body, status_code=stored.status_code, media_type="application/json")


@router.get(
    BOOKINGS,
    response_model=Page[BookingOut],
    responses=problem_responses(400, 401, 403, 422),
    summary="The caller's bookings",
)
async def list_bookings(
    db: DatabaseDep,
    principal: PrincipalDep,
    page: PageDep,
    filters: Annotated[BookingFilters, Depends()],
) -> Page[BookingOut]:
    """A university's bookings, the bookings on a provider's offers (all for admins and
    coordinators), oldest first; filter by ``offer_id`` and ``status``."""
    async with db.read() as session:
        items, next_cursor = await service.list_bookings(
            session, principal=principal, filters=filters, page=page
        )
    return Page[BookingOut](items=items, next_cursor=next_cursor)


@router.get(
    ONE,
    response_model=BookingOut,
    responses=problem_responses(401, 403, 404),
    summary="One booking",
)
async def read_booking(
    booking_id: uuid.UUID, db: DatabaseDep, principal: PrincipalDep
) -> BookingOut:
    """One booking of the caller's university or on the caller's offers."""
    async with db.read() as session:
        return await service.get_booking(session, booking_id, principal=principal)


@router.post(
    ONE + "/confirm",
    response_model=BookingOut,
    responses=_TRANSITION_PROBLEMS,
    summary="Confirm a request (all places or fewer)",
)
async def confirm_booking(
    booking_id: uuid.UUID,
    db: DatabaseDep,
    principal: PrincipalDep,
    body: Annotated[BookingConfirm | None, Body()] = None,
) -> BookingOut:
    """requested → confirmed by the provider; places not confirmed are released."""
    async with db.write() as session:
        return await service.confirm(
            session, booking_id, data=body or BookingConfirm(), principal=principal
        )


@router.post(
    ONE + "/decline",
    response_model=BookingOut,
    responses=_TRANSITION_PROBLEMS,
    summary="Decline a request",
)
async def decline_booking(
    booking_id: uuid.UUID, body: BookingReason, db: DatabaseDep, principal: PrincipalDep
) -> BookingOut:
    """requested → declined by the provider, with a reason; the held places are released."""
    async with db.write() as session:
        return await service.decline(session, booking_id, data=body, principal=principal)


@router.post(
    ONE + "/cancel",
    response_model=BookingOut,
    responses=_TRANSITION_PROBLEMS,
    summary="Cancel a booking",
)
async def cancel_booking(
    booking_id: uuid.UUID, body: BookingReason, db: DatabaseDep, principal: PrincipalDep
) -> BookingOut:
    """requested or confirmed → cancelled by the university or the provider, with a reason."""
    async with db.write() as session:
        return await service.cancel(session, booking_id, data=body, principal=principal)


@router.post(
    ONE + "/start",
    response_model=BookingOut,
    responses=_TRANSITION_PROBLEMS,
    summary="Start a placement",
)
async def start_placement(
    booking_id: uuid.UUID, db: DatabaseDep, principal: PrincipalDep
) -> BookingOut:
    """confirmed → in_progress by the provider (otherwise done on the start date)."""
    async with db.write() as session:
        return await service.start(session, booking_id, principal=principal)


@router.post(
    ONE + "/complete",
    response_model=BookingOut,
    responses=_TRANSITION_PROBLEMS,
    summary="Complete a placement",
)
async def complete_placement(
    booking_id: uuid.UUID, db: DatabaseDep, principal: PrincipalDep
) -> BookingOut:
    """in_progress → completed by the provider (otherwise done after the end date)."""
    async with db.write() as session:
        return await service.complete(session, booking_id, principal=principal)


@router.put(
    ONE + "/students",
    response_model=BookingOut,
    responses=_TRANSITION_PROBLEMS,
    summary="Name the booking's students",
)
async def set_students(
    booking_id: uuid.UUID, body: BookingStudents, db: DatabaseDep, principal: PrincipalDep
) -> BookingOut:
    """Replace the pseudonymous student ids (booking university; at most the places)."""
    async with db.write() as session:
        return await service.set_students(session, booking_id, data=body, principal=principal)
