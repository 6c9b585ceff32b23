"""HTTP endpoints of the care-unit feature: parse, call one service function, answer."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, status
from vfu_common.errors import problem_responses
from vfu_common.idempotency import IdempotencyGuard, IdempotencyKeyHeader
from vfu_common.pagination import Page
from vfu_common.web.deps import DatabaseDep, PageDep, PrincipalDep, require_roles

from placements.units import service
from placements.units.schemas import UnitCreate, UnitOut, UnitUpdate

router = APIRouter(prefix="/api/v1/placements", tags=["care units"])
UNITS = "/units"
_MANAGERS = require_roles("provider", "admin")


@router.post(
    UNITS,
    status_code=status.HTTP_201_CREATED,
    response_model=UnitOut,
    dependencies=[_MANAGERS],  # type: ignore[list-item]
    responses=problem_responses(401, 403, 409, 422),
    summary="Register a care unit",
)
async def create_unit(
    body: UnitCreate,
    db: DatabaseDep,
    principal: PrincipalDep,
    idempotency_key: IdempotencyKeyHeader = None,
) -> Any:
    """A unit of the caller's provider organisation (an admin names ``provider_id``)."""
    guard = IdempotencyGuard.for_request(
        principal.subject, idempotency_key, "POST /units", body.model_dump(mode="json")
    )
    async with db.write() as session:
        if (stored := await guard.claim(session)) is not None:
            return stored.as_response()
        out = service.to_out(await service.create_unit(session, data=body, principal=principal))
        await guard.remember(session, status.HTTP_201_CREATED, out.model_dump_json())
    return out


@router.get(
    UNITS,
    response_model=Page[UnitOut],
    responses=problem_responses(400, 401),
    summary="Care units",
)
async def list_units(
    db: DatabaseDep,
    principal: PrincipalDep,
    page: PageDep,
    provider_id: uuid.UUID | None = None,
) -> Page[UnitOut]:
    """Every care unit, or one provider's; units are public facts for every role."""
    async with db.read() as session:
        rows, next_cursor = await service.list_units(session, provider_id=provider_id, page=page)
    return Page[UnitOut](items=[service.to_out(r) for r in rows], next_cursor=next_cursor)


@router.get(
    UNITS + "/{unit_id}",
    response_model=UnitOut,
    responses=problem_responses(401, 404),
    summary="One care unit",
)
async def read_unit(unit_id: uuid.UUID, db: DatabaseDep, principal: PrincipalDep) -> UnitOut:
    """One care unit."""
    async with db.read() as session:
        return service.to_out(await service.get_unit(session, unit_id))


@router.patch(
    UNITS + "/{unit_id}",
    response_model=UnitOut,
    dependencies=[_MANAGERS],  # type: ignore[list-item]
    responses=problem_responses(401, 403, 404, 409, 422),
    summary="Change a care unit",
)
async def update_unit(
    unit_id: uuid.UUID, body: UnitUpdate, db: DatabaseDep, principal: PrincipalDep
) -> UnitOut:
    """Change the unit (owner or admin); its offers' copied location follows."""
    async with db.write() as session:
        unit = await service.update_unit(session, unit_id, data=body, principal=principal)
    return service.to_out(unit)
