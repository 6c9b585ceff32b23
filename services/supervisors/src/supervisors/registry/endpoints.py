"""HTTP endpoints of the supervisor registry: parse, call one service function, answer."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, status
from vfu_common.errors import problem_responses
from vfu_common.idempotency import IdempotencyGuard, IdempotencyKeyHeader
from vfu_common.pagination import Page
from vfu_common.web.deps import DatabaseDep, PageDep, PrincipalDep

from supervisors.qualification.levels import RequiredLevelsDep
from supervisors.registry import service
from supervisors.registry.repository import ListFilter
from supervisors.registry.schemas import (
    SupervisorCreate,
    SupervisorOut,
    SupervisorUpdate,
    SupervisorView,
)

router = APIRouter(prefix="/api/v1/supervisors", tags=["supervisors"])
SUPERVISORS = "/supervisors"
SUPERVISOR = SUPERVISORS + "/{supervisor_id}"


@router.post(
    SUPERVISORS,
    status_code=status.HTTP_201_CREATED,
    response_model=SupervisorOut,
    responses=problem_responses(401, 403, 409, 422),
    summary="Register a supervisor",
)
async def register_supervisor(
    body: SupervisorCreate,
    db: DatabaseDep,
    principal: PrincipalDep,
    levels: RequiredLevelsDep,
    idempotency_key: IdempotencyKeyHeader = None,
) -> Any:
    """A supervisor employed by the caller's organisation (an admin names ``employer_id``)."""
    guard = IdempotencyGuard.for_request(
        principal.subject, idempotency_key, "POST /supervisors", body.model_dump(mode="json")
    )
    async with db.write() as session:
        if (stored := await guard.claim(session)) is not None:
            return stored.as_response()
        row = await service.register_supervisor(
            session, data=body, principal=principal, levels=levels
        )
        out = await service.view(session, row, "full")
        await guard.remember(session, status.HTTP_201_CREATED, out.model_dump_json())
    return out


@router.get(
    SUPERVISORS,
    response_model=Page[SupervisorView],
    responses=problem_responses(400, 401, 403),
    summary="Supervisors",
)
async def list_supervisors(
    db: DatabaseDep,
    principal: PrincipalDep,
    page: PageDep,
    employer_id: uuid.UUID | None = None,
    unit_id: uuid.UUID | None = None,
    profession_code: str | None = None,
    qualified: bool | None = None,
) -> Page[SupervisorView]:
    """The supervisors the caller may see: employers their own staff, universities those
    assigned to their bookings, coordinators all without personal fields, admins all."""
    query = ListFilter(
        employer_id=employer_id,
        unit_id=unit_id,
        profession_code=profession_code,
        qualified=qualified,
    )
    async with db.read() as session:
        items, next_cursor = await service.list_supervisors(
            session, principal=principal, query=query, page=page
        )
    return Page[SupervisorView](items=items, next_cursor=next_cursor)


@router.get(
    SUPERVISOR,
    response_model=SupervisorView,
    responses=problem_responses(401, 403, 404),
    summary="One supervisor",
)
async def read_supervisor(
    supervisor_id: uuid.UUID, db: DatabaseDep, principal: PrincipalDep
) -> Any:
    """The supervisor with qualification, current load and supervision history."""
    async with db.read() as session:
        return await service.get_supervisor(session, supervisor_id, principal=principal)


@router.patch(
    SUPERVISOR,
    response_model=SupervisorOut,
    responses=problem_responses(401, 403, 404, 409, 422),
    summary="Change a supervisor",
)
async def update_supervisor(
    supervisor_id: uuid.UUID,
    body: SupervisorUpdate,
    db: DatabaseDep,
    principal: PrincipalDep,
    levels: RequiredLevelsDep,
) -> Any:
    """Change the supervisor (employer or admin); a licence change updates the qualification."""
    async with db.write() as session:
        row = await service.update_supervisor(
            session, supervisor_id, data=body, principal=principal, levels=levels
        )
        return await service.view(session, row, "full")


@router.post(
    SUPERVISOR + "/deregister",
    response_model=SupervisorOut,
    responses=problem_responses(401, 403, 404, 409),
    summary="Deregister a supervisor",
)
async def deregister_supervisor(
    supervisor_id: uuid.UUID, db: DatabaseDep, principal: PrincipalDep
) -> Any:
    """Mark the supervisor inactive; they stay readable for the supervision history."""
    async with db.write() as session:
        row = await service.deregister_supervisor(session, supervisor_id, principal=principal)
        return await service.view(session, row, "full")
