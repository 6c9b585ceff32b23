"""HTTP endpoints of the supervisor gate: parse, call one service function, answer."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Response, status
from vfu_common.errors import problem_responses
from vfu_common.idempotency import IdempotencyKeyHeader
from vfu_common.pagination import Page
from vfu_common.web.deps import DatabaseDep, PageDep, PrincipalDep

from placements.supervision import service
from placements.supervision.schemas import AssignmentCreate, AssignmentOut

router = APIRouter(prefix="/api/v1/placements", tags=["supervision"])
SUPERVISORS = "/bookings/{booking_id}/supervisors"
ONE = SUPERVISORS + "/{assignment_id}"


@router.post(
    SUPERVISORS,
    status_code=status.HTTP_201_CREATED,
    response_model=AssignmentOut,
    responses=problem_responses(401, 403, 404, 409, 422, 503),
    summary="Assign a supervisor to a confirmed booking",
)
async def assign_supervisor(
    booking_id: uuid.UUID,
    body: AssignmentCreate,
    db: DatabaseDep,
    principal: PrincipalDep,
    idempotency_key: IdempotencyKeyHeader = None,
) -> Response:
    """The supervisor gate (the offer's provider or an admin).

    409 with the rule that refused: ``booking_not_confirmed``, ``unknown_supervisor``,
    ``supervisor_deregistered``, ``supervisor_not_employed_by_provider``,
    ``supervisor_not_at_unit``, ``profession_mismatch``, ``supervisor_not_qualified``
    (the detail starts with the qualification rule's reason, e.g.
    ``training_below_requirement:``), ``supervisor_already_assigned``,
    ``booking_fully_supervised``, ``supervisor_over_capacity``.
    """
    async with db.write() as session:
        stored, replayed = await service.assign(
            session, booking_id, data=body, principal=principal, idempotency_key=idempotency_key
        )
    if replayed:
        return stored.as_response()
    return Response(stored.body, status_code=stored.status_code, media_type="application/json")


@router.get(
    SUPERVISORS,
    response_model=Page[AssignmentOut],
    responses=problem_responses(400, 401, 403, 404, 422),
    summary="A booking's supervisor assignments",
)
async def list_assignments(
    booking_id: uuid.UUID, db: DatabaseDep, principal: PrincipalDep, page: PageDep
) -> Page[AssignmentOut]:
    """Active and released assignments of a booking, for the booking's parties."""
    async with db.read() as session:
        items, next_cursor = await service.list_assignments(
            session, booking_id, principal=principal, page=page
        )
    return Page[AssignmentOut](items=items, next_cursor=next_cursor)


@router.post(
    ONE + "/release",
    response_model=AssignmentOut,
    responses=problem_responses(401, 403, 404, 409, 422, 503),
    summary="Release a supervisor from a booking",
)
async def release_assignment(
    booking_id: uuid.UUID, assignment_id: uuid.UUID, db: DatabaseDep, principal: PrincipalDep
) -> AssignmentOut:
    """End an active assignment (the offer's provider or an admin); 409
    ``assignment_not_active`` when it already ended."""
    async with db.write() as session:
        return await service.release(session, booking_id, assignment_id, principal=principal)
