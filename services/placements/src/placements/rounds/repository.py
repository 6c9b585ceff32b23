"""Every query on the planning-round tables (SQLAlchemy Core)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import case, func, insert, literal, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from vfu_common.db import insert_ignore
from vfu_common.rows import all_as, one_as

from placements.rounds.models import (
    GATE_COLUMNS,
    PlanningRound,
    gates_passed,
    planning_rounds,
    round_policies,
    round_scope,
)


async def get(
    session: AsyncSession, round_id: uuid.UUID, *, for_update: bool = False
) -> PlanningRound | None:
    """One round, locked on PostgreSQL when ``for_update``."""
    stmt = select(planning_rounds).where(planning_rounds.c.id == round_id)
    if for_update:
        stmt = stmt.with_for_update()
    return one_as(PlanningRound, await session.execute(stmt))


async def add(
    session: AsyncSession,
    values: dict[str, Any],
    scope: list[tuple[str, str]],
    policy: str,
    published_by: str,
) -> None:
    """Insert a round, its scope and its first policy version."""
    await session.execute(insert(planning_rounds).values(**values))
    await session.execute(
        insert(round_scope),
        [{"round_id": values["id"], "kind": kind, "ref": ref} for kind, ref in scope],
    )
    await add_policy(session, values["id"], 1, policy, published_by, values["created_at"])


async def add_policy(
    session: AsyncSession,
    round_id: uuid.UUID,
    version: int,
    body: str,
    published_by: str,
    now: datetime,
) -> None:
    """Store a policy version (never changed afterwards)."""
    await session.execute(
        insert(round_policies).values(
            round_id=round_id,
            version=version,
            body=body,
            published_at=now,
            published_by=published_by,
        )
    )


async def move_to_policy(
    session: AsyncSession, round_: PlanningRound, version: int, now: datetime
) -> bool:
    """Point the round at policy ``version`` if nobody changed it since it was read."""
    result = await session.execute(
        update(planning_rounds)
        .where(planning_rounds.c.id == round_.id, planning_rounds.c.version == round_.version)
        .values(policy_version=version, version=round_.version + 1, updated_at=now)
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


async def scope_of(
    session: AsyncSession, round_ids: list[uuid.UUID]
) -> dict[uuid.UUID, list[tuple[str, str]]]:
    """Each round's (kind, ref) scope entries."""
    found: dict[uuid.UUID, list[tuple[str, str]]] = {r: [] for r in round_ids}
    if not round_ids:
        return found
    rows = await session.execute(
        select(round_scope)
        .where(round_scope.c.round_id.in_(round_ids))
        .order_by(round_scope.c.kind, round_scope.c.ref)
    )
    for row in rows:
        found[row.round_id].append((row.kind, row.ref))
    return found


async def policy(session: AsyncSession, round_id: uuid.UUID, version: int) -> Any:
    """The stored policy version row (body, published_at)."""
    rows = await session.execute(
        select(round_policies).where(
            round_policies.c.round_id == round_id, round_policies.c.version == version
        )
    )
    return rows.one()


async def current_policies(
    session: AsyncSession, rounds: list[PlanningRound]
) -> dict[uuid.UUID, Any]:
    """Each round's current policy version row, in one query."""
    if not rounds:
        return {}
    wanted = {(r.id, r.policy_version) for r in rounds}
    rows = await session.execute(
        select(round_policies).where(round_policies.c.round_id.in_([r.id for r in rounds]))
    )
    return {row.round_id: row for row in rows if (row.round_id, row.version) in wanted}


async def policies(session: AsyncSession, round_id: uuid.UUID) -> list[Any]:
    """Every published policy version of a round, oldest first."""
    rows = await session.execute(
        select(round_policies)
        .where(round_policies.c.round_id == round_id)
        .order_by(round_policies.c.version)
    )
    return list(rows)


async def page(
    session: AsyncSession, *, term: str | None, after: uuid.UUID | None, limit: int
) -> list[PlanningRound]:
    """Rounds in id order (UUIDv7: opening order), optionally of one term."""
    stmt = select(planning_rounds).order_by(planning_rounds.c.id).limit(limit)
    if term is not None:
        stmt = stmt.where(planning_rounds.c.term == term)
    if after is not None:
        stmt = stmt.where(planning_rounds.c.id > after)
    return all_as(PlanningRound, await session.execute(stmt))


async def with_unannounced_gates(session: AsyncSession, today: date) -> list[uuid.UUID]:
    """Rounds with a gate dated before ``today`` whose passage is not yet recorded."""
    announced = (
        select(func.count())
        .select_from(gates_passed)
        .where(gates_passed.c.round_id == planning_rounds.c.id)
        .scalar_subquery()
    )
    # How many gates are dated before today: more than are recorded means one is due.
    passed_by_date = sum(
        (case((planning_rounds.c[column] < today, 1), else_=0) for column in GATE_COLUMNS.values()),
        start=literal(0),
    )
    stmt = (
        select(planning_rounds.c.id)
        .where(
            or_(planning_rounds.c.demand_due_on < today, planning_rounds.c.offers_due_on < today),
            announced < passed_by_date,
        )
        .order_by(planning_rounds.c.id)
    )
    return list((await session.execute(stmt)).scalars())


async def record_passage(
    session: AsyncSession, round_id: uuid.UUID, gate: str, day: date, now: datetime
) -> bool:
    """Record that ``gate`` passed; False when another scheduler recorded it first."""
    return await insert_ignore(
        session,
        gates_passed,
        {"round_id": round_id, "gate": gate, "gate_date": day, "announced_at": now},
    )


async def bump_version(session: AsyncSession, round_id: uuid.UUID, now: datetime) -> int:
    """Count a change of the round (a gate passed) in its version; the new version."""
    await session.execute(
        update(planning_rounds)
        .where(planning_rounds.c.id == round_id)
        .values(version=planning_rounds.c.version + 1, updated_at=now)
    )
    row = await session.execute(
        select(planning_rounds.c.version).where(planning_rounds.c.id == round_id)
    )
    return int(row.scalar_one())
