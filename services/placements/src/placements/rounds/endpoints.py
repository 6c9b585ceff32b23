"""HTTP endpoints of the planning-round feature: parse, call one service function, answer."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, status
from vfu_common.errors import problem_responses
from vfu_common.idempotency import IdempotencyGuard, IdempotencyKeyHeader
from vfu_common.pagination import Page
from vfu_common.web.deps import DatabaseDep, PageDep, PrincipalDep, require_roles

from placements.offers.schemas import Term
from placements.rounds import service
from placements.rounds.authority import OPENER_ROLES
from placements.rounds.schemas import Policy, PolicyOut, RoundCreate, RoundOut

router = APIRouter(prefix="/api/v1/placements", tags=["planning rounds"])
ROUNDS = "/rounds"
ROUND = ROUNDS + "/{round_id}"
_OPENERS = require_roles(*OPENER_ROLES)
_READERS = require_roles("university", "provider", "coordinator", "admin")


@router.post(
    ROUNDS,
    status_code=status.HTTP_201_CREATED,
    response_model=RoundOut,
    dependencies=[_OPENERS],  # type: ignore[list-item]
    responses=problem_responses(401, 403, 409, 422),
    summary="Open a planning round",
)
async def open_round(
    body: RoundCreate,
    db: DatabaseDep,
    principal: PrincipalDep,
    idempotency_key: IdempotencyKeyHeader = None,
) -> Any:
    """Open the term's round for the caller's organisation: a coordinator over its
    healthcare region, a provider over its own units. Its gates close by the calendar."""
    guard = IdempotencyGuard.for_request(
        principal.subject, idempotency_key, "POST /rounds", body.model_dump(mode="json")
    )
    async with db.write() as session:
        if (stored := await guard.claim(session)) is not None:
            return stored.as_response()
        opened = await service.open_round(session, data=body, principal=principal)
        out = await service.to_out(session, opened)
        await guard.remember(session, status.HTTP_201_CREATED, out.model_dump_json())
    return out


@router.get(
    ROUNDS,
    response_model=Page[RoundOut],
    dependencies=[_READERS],  # type: ignore[list-item]
    responses=problem_responses(400, 401, 403, 422),
    summary="Planning rounds",
)
async def list_rounds(
    db: DatabaseDep, principal: PrincipalDep, page: PageDep, term: Term | None = None
) -> Page[RoundOut]:
    """Every round (or one term's), in opening order: rounds are public coordination."""
    async with db.read() as session:
        rows, next_cursor = await service.list_rounds(session, term=term, page=page)
        items = await service.to_outs(session, rows)
    return Page[RoundOut](items=items, next_cursor=next_cursor)


@router.get(
    ROUND,
    response_model=RoundOut,
    dependencies=[_READERS],  # type: ignore[list-item]
    responses=problem_responses(401, 403, 404),
    summary="One planning round",
)
async def read_round(round_id: uuid.UUID, db: DatabaseDep, principal: PrincipalDep) -> RoundOut:
    """The round, its gates as of today and its current policy."""
    async with db.read() as session:
        return await service.to_out(session, await service.load(session, round_id))


@router.put(
    ROUND + "/policy",
    response_model=RoundOut,
    dependencies=[_OPENERS],  # type: ignore[list-item]
    responses=problem_responses(401, 403, 404, 409, 422),
    summary="Publish a new version of the round's policy",
)
async def publish_policy(
    round_id: uuid.UUID, body: Policy, db: DatabaseDep, principal: PrincipalDep
) -> RoundOut:
    """A new policy version (the round's coordinator, up to the day before allocation);
    the same policy again publishes nothing."""
    async with db.write() as session:
        round_ = await service.publish_policy(session, round_id, policy=body, principal=principal)
        return await service.to_out(session, round_)


@router.get(
    ROUND + "/policies",
    response_model=list[PolicyOut],
    dependencies=[_READERS],  # type: ignore[list-item]
    responses=problem_responses(401, 403, 404),
    summary="Every published version of the round's policy",
)
async def list_policies(
    round_id: uuid.UUID, db: DatabaseDep, principal: PrincipalDep
) -> list[PolicyOut]:
    """The policy's versions, oldest first: what allocation will apply is public."""
    async with db.read() as session:
        return await service.policy_versions(session, round_id)
