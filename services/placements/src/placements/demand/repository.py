"""Every query on the ``demand_lines`` table (SQLAlchemy Core)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import case, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from vfu_common.rows import all_as, one_as

from placements.demand.models import DemandLine, demand_lines


async def get(
    session: AsyncSession, round_id: uuid.UUID, line_id: uuid.UUID, *, for_update: bool = False
) -> DemandLine | None:
    """One line of the round, locked on PostgreSQL when ``for_update``."""
    stmt = select(demand_lines).where(
        demand_lines.c.id == line_id, demand_lines.c.round_id == round_id
    )
    if for_update:
        stmt = stmt.with_for_update()
    return one_as(DemandLine, await session.execute(stmt))


async def add(session: AsyncSession, values: list[dict[str, Any]]) -> None:
    """Insert lines."""
    await session.execute(insert(demand_lines), values)


async def change(session: AsyncSession, line: DemandLine, values: dict[str, Any]) -> bool:
    """Apply ``values`` if the line is still at the version read; False if it moved."""
    result = await session.execute(
        update(demand_lines)
        .where(demand_lines.c.id == line.id, demand_lines.c.version == line.version)
        .values(**values, version=line.version + 1)
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


async def page(
    session: AsyncSession,
    round_id: uuid.UUID,
    *,
    university_id: uuid.UUID | None,
    status: str | None,
    after: uuid.UUID | None,
    limit: int,
) -> list[DemandLine]:
    """The round's lines in id order, optionally one university's or of one status."""
    stmt = (
        select(demand_lines)
        .where(demand_lines.c.round_id == round_id)
        .order_by(demand_lines.c.id)
        .limit(limit)
    )
    if university_id is not None:
        stmt = stmt.where(demand_lines.c.university_id == university_id)
    if status is not None:
        stmt = stmt.where(demand_lines.c.status == status)
    if after is not None:
        stmt = stmt.where(demand_lines.c.id > after)
    return all_as(DemandLine, await session.execute(stmt))


async def totals(session: AsyncSession, round_id: uuid.UUID, own: uuid.UUID | None) -> list[Any]:
    """Active demand per profession and programme, all universities together."""
    c = demand_lines.c
    own_students = func.coalesce(func.sum(case((c.university_id == own, c.students), else_=0)), 0)
    stmt = (
        select(
            c.profession_code,
            c.programme_code,
            func.count().label("lines"),
            func.sum(c.students).label("students"),
            func.count(func.distinct(c.university_id)).label("universities"),
            own_students.label("own_students"),
        )
        .where(c.round_id == round_id, c.status == "active")
        .group_by(c.profession_code, c.programme_code)
        .order_by(c.profession_code, c.programme_code)
    )
    return list(await session.execute(stmt))


async def counting_lines(session: AsyncSession, round_id: uuid.UUID) -> list[DemandLine]:
    """Every active line of the round, in id order (what allocation serves)."""
    stmt = (
        select(demand_lines)
        .where(demand_lines.c.round_id == round_id, demand_lines.c.status == "active")
        .order_by(demand_lines.c.id)
    )
    return all_as(DemandLine, await session.execute(stmt))
