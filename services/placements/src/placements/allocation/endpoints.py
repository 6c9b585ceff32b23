"""HTTP endpoints of allocation runs: parse, call one service function, answer."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, status
from vfu_common.errors import problem_responses
from vfu_common.pagination import Page
from vfu_common.web.deps import DatabaseDep, PageDep, PrincipalDep, require_roles

from placements.allocation import errors, service
from placements.allocation.schemas import LineExplanation, RunCheck, RunOut
from placements.rounds import authority
from placements.rounds.authority import OPENER_ROLES

router = APIRouter(prefix="/api/v1/placements", tags=["allocation"])
RUNS = "/rounds/{round_id}/allocations"
RUN = RUNS + "/{run_id}"
_MANAGERS = require_roles(*OPENER_ROLES)
_READERS = require_roles("university", "provider", "coordinator", "admin")


@router.post(
    RUNS,
    status_code=status.HTTP_201_CREATED,
    response_model=RunOut,
    dependencies=[_MANAGERS],  # type: ignore[list-item]
    responses=problem_responses(401, 403, 404, 409),
    summary="Run the round's allocation as a preview",
)
async def run_preview(round_id: uuid.UUID, db: DatabaseDep, principal: PrincipalDep) -> RunOut:
    """Snapshot the round (offers, demand, quotas, agreements, policy), solve it and keep
    the result as a preview (the round's coordinator; after demand and offers are due,
    through allocation day). One run of a round at a time."""
    run = await service.run_preview(db, round_id, principal=principal)
    async with db.read() as session:
        round_ = await service.read_round(session, round_id)
    return service.to_out(principal, round_, run)


@router.get(
    RUNS,
    response_model=Page[RunOut],
    dependencies=[_READERS],  # type: ignore[list-item]
    responses=problem_responses(400, 401, 403, 404, 422),
    summary="The round's allocation runs",
)
async def list_runs(
    round_id: uuid.UUID, db: DatabaseDep, principal: PrincipalDep, page: PageDep
) -> Page[RunOut]:
    """Every run in the order started: a university sees its own lines' places."""
    async with db.read() as session:
        round_ = await service.read_round(session, round_id)
        rows, next_cursor = await service.list_runs(session, round_id, page)
    items = [service.to_out(principal, round_, run) for run in rows]
    return Page[RunOut](items=items, next_cursor=next_cursor)


@router.get(
    RUN,
    response_model=RunOut,
    dependencies=[_READERS],  # type: ignore[list-item]
    responses=problem_responses(401, 403, 404),
    summary="One allocation run",
)
async def read_run(
    round_id: uuid.UUID, run_id: uuid.UUID, db: DatabaseDep, principal: PrincipalDep
) -> RunOut:
    """The run: the caller's own lines' places; the report for the round's coordinator."""
    async with db.read() as session:
        round_ = await service.read_round(session, round_id)
        run = await service.get_run(session, round_id, run_id)
    return service.to_out(principal, round_, run)


@router.get(
    RUN + "/explanations",
    response_model=list[LineExplanation],
    dependencies=[_READERS],  # type: ignore[list-item]
    responses=problem_responses(401, 403, 404, 409),
    summary="Why each demand line got what it got",
)
async def list_explanations(
    round_id: uuid.UUID, run_id: uuid.UUID, db: DatabaseDep, principal: PrincipalDep
) -> list[LineExplanation]:
    """An explanation per line: a university its own lines', the coordinator every line's."""
    async with db.read() as session:
        round_ = await service.read_round(session, round_id)
        run = await service.get_run(session, round_id, run_id)
    return service.explanations(principal, round_, run)


@router.get(
    RUN + "/explanations/{line_id}",
    response_model=LineExplanation,
    dependencies=[_READERS],  # type: ignore[list-item]
    responses=problem_responses(401, 403, 404, 409),
    summary="Why one demand line got what it got",
)
async def read_explanation(
    round_id: uuid.UUID,
    run_id: uuid.UUID,
    line_id: uuid.UUID,
    db: DatabaseDep,
    principal: PrincipalDep,
) -> LineExplanation:
    """One line's explanation; another university's line does not exist to the caller."""
    async with db.read() as session:
        round_ = await service.read_round(session, round_id)
        run = await service.get_run(session, round_id, run_id)
    for entry in service.explanations(principal, round_, run):
        if entry.line_id == line_id:
            return entry
    raise errors.line_not_found(line_id)


@router.post(
    RUN + "/publish",
    response_model=RunOut,
    dependencies=[_MANAGERS],  # type: ignore[list-item]
    responses=problem_responses(401, 403, 404, 409),
    summary="Publish a preview: its bookings, confirmed",
)
async def publish(
    round_id: uuid.UUID, run_id: uuid.UUID, db: DatabaseDep, principal: PrincipalDep
) -> RunOut:
    """Book every allocated place, confirmed, with the round as origin, in one transaction
    or not at all; a preview whose input changed since is refused as stale."""
    async with db.write() as session:
        run = await service.publish(session, round_id, run_id, principal=principal)
        round_ = await service.read_round(session, round_id)
    return service.to_out(principal, round_, run)


@router.post(
    RUN + "/check",
    response_model=RunCheck,
    dependencies=[_MANAGERS],  # type: ignore[list-item]
    responses=problem_responses(401, 403, 404, 409),
    summary="Recompute a run from its stored input and compare",
)
async def check(
    round_id: uuid.UUID, run_id: uuid.UUID, db: DatabaseDep, principal: PrincipalDep
) -> RunCheck:
    """Solve the stored snapshot again: the same bytes prove the result is the policy's."""
    async with db.read() as session:
        round_ = await service.read_round(session, round_id)
        authority.require_manager(principal, round_)
        return await service.recompute(session, round_id, run_id)
