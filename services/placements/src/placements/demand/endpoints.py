"""HTTP endpoints of a round's demand lines: parse, call one service function, answer."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, File, Query, Response, UploadFile, status
from vfu_common import tabular
from vfu_common.errors import problem_responses
from vfu_common.events.contracts import DemandLineStatus
from vfu_common.idempotency import IdempotencyGuard, IdempotencyKeyHeader
from vfu_common.pagination import Page
from vfu_common.web.deps import DatabaseDep, PageDep, PrincipalDep, require_roles

from placements.demand import imports, service
from placements.demand.schemas import (
    DemandCreate,
    DemandImportReport,
    DemandLineOut,
    DemandSummary,
    DemandUpdate,
)

router = APIRouter(prefix="/api/v1/placements", tags=["planning rounds"])
DEMAND = "/rounds/{round_id}/demand"
LINE = DEMAND + "/{line_id}"
_SUBMITTERS = require_roles("university", "admin")
_READERS = require_roles("university", "provider", "coordinator", "admin")


@router.post(
    DEMAND,
    status_code=status.HTTP_201_CREATED,
    response_model=DemandLineOut,
    dependencies=[_SUBMITTERS],  # type: ignore[list-item]
    responses=problem_responses(401, 403, 404, 409, 422),
    summary="Submit a demand line",
)
async def submit_demand(
    round_id: uuid.UUID,
    body: DemandCreate,
    db: DatabaseDep,
    principal: PrincipalDep,
    idempotency_key: IdempotencyKeyHeader = None,
) -> Any:
    """What the caller's university needs of the round, through the day demand is due."""
    guard = IdempotencyGuard.for_request(
        principal.subject,
        idempotency_key,
        f"POST /rounds/{round_id}/demand",
        body.model_dump(mode="json"),
    )
    async with db.write() as session:
        if (stored := await guard.claim(session)) is not None:
            return stored.as_response()
        out = service.to_out(
            await service.submit(session, round_id, data=body, principal=principal)
        )
        await guard.remember(session, status.HTTP_201_CREATED, out.model_dump_json())
    return out


@router.post(
    DEMAND + "/import",
    response_model=DemandImportReport,
    dependencies=[_SUBMITTERS],  # type: ignore[list-item]
    responses={
        **problem_responses(401, 403, 404, 409, 413, 422),
        201: {"model": DemandImportReport, "description": "Every row stored"},
    },
    summary="Import demand lines from CSV or XLSX, all or nothing",
)
async def import_demand(
    round_id: uuid.UUID,
    file: Annotated[UploadFile, File(description="CSV (UTF-8, ',' or ';') or XLSX")],
    db: DatabaseDep,
    principal: PrincipalDep,
    response: Response,
    dry_run: Annotated[bool, Query(description="Validate and report; store nothing")] = False,
    university_id: Annotated[
        uuid.UUID | None, Query(description="The university (admins only)")
    ] = None,
) -> DemandImportReport:
    """Validate every row like POST /demand. If all pass, store them in one transaction
    (201; with ``dry_run`` store nothing, 200); if any fails, store nothing and answer 422
    ``import_has_errors`` with the failing rows, each with field, code and message.
    Lists (care_settings, municipality_codes, county_codes) are separated by ``|``."""
    content = await file.read(imports.MAX_BYTES + 1)
    if len(content) > imports.MAX_BYTES:
        raise tabular.body_too_large(imports.MAX_BYTES)
    async with db.write() as session:
        report = await imports.import_demand(
            session,
            round_id,
            content=content,
            principal=principal,
            university_id=university_id,
            dry_run=dry_run,
        )
    response.status_code = status.HTTP_200_OK if dry_run else status.HTTP_201_CREATED
    return report


@router.get(
    DEMAND,
    response_model=Page[DemandLineOut],
    dependencies=[_READERS],  # type: ignore[list-item]
    responses=problem_responses(400, 401, 403, 404, 422),
    summary="Demand lines of a round",
)
async def list_demand(
    round_id: uuid.UUID,
    db: DatabaseDep,
    principal: PrincipalDep,
    page: PageDep,
    university_id: uuid.UUID | None = None,
    line_status: DemandLineStatus | None = None,
) -> Page[DemandLineOut]:
    """A university its own lines; the round's coordinator and admins every line."""
    async with db.read() as session:
        rows, next_cursor = await service.list_lines(
            session,
            round_id,
            principal=principal,
            university_id=university_id,
            status=line_status,
            page=page,
        )
    return Page[DemandLineOut](items=[service.to_out(r) for r in rows], next_cursor=next_cursor)


@router.get(
    DEMAND + "-summary",
    response_model=DemandSummary,
    dependencies=[_READERS],  # type: ignore[list-item]
    responses=problem_responses(401, 403, 404),
    summary="The round's demand, all universities together",
)
async def demand_summary(
    round_id: uuid.UUID, db: DatabaseDep, principal: PrincipalDep
) -> DemandSummary:
    """Students asked for per profession and programme (active lines), never per university."""
    async with db.read() as session:
        return await service.summary(session, round_id, principal=principal)


@router.get(
    LINE,
    response_model=DemandLineOut,
    dependencies=[_READERS],  # type: ignore[list-item]
    responses=problem_responses(401, 403, 404),
    summary="One demand line",
)
async def read_demand(
    round_id: uuid.UUID, line_id: uuid.UUID, db: DatabaseDep, principal: PrincipalDep
) -> DemandLineOut:
    """The line, to its university and the round's coordinator."""
    async with db.read() as session:
        line = await service.get_line(session, round_id, line_id, principal=principal)
    return service.to_out(line)


@router.patch(
    LINE,
    response_model=DemandLineOut,
    dependencies=[_SUBMITTERS],  # type: ignore[list-item]
    responses=problem_responses(401, 403, 404, 409, 422),
    summary="Change a demand line",
)
async def change_demand(
    round_id: uuid.UUID,
    line_id: uuid.UUID,
    body: DemandUpdate,
    db: DatabaseDep,
    principal: PrincipalDep,
) -> DemandLineOut:
    """Change the line (its university), through the day demand is due."""
    async with db.write() as session:
        line = await service.change(session, round_id, line_id, data=body, principal=principal)
    return service.to_out(line)


@router.post(
    LINE + "/withdraw",
    response_model=DemandLineOut,
    dependencies=[_SUBMITTERS],  # type: ignore[list-item]
    responses=problem_responses(401, 403, 404, 409),
    summary="Withdraw a demand line",
)
async def withdraw_demand(
    round_id: uuid.UUID, line_id: uuid.UUID, db: DatabaseDep, principal: PrincipalDep
) -> DemandLineOut:
    """Withdraw the line (kept as a record), through the day demand is due."""
    async with db.write() as session:
        line = await service.withdraw(session, round_id, line_id, principal=principal)
    return service.to_out(line)
