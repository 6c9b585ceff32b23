"""Every query on the ``supervisors`` and ``supervisor_units`` tables (SQLAlchemy Core)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, false, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from vfu_common.rows import all_as, one_as

from supervisors.projections.assignments import supervisors_of_university
from supervisors.registry.models import Supervisor, supervisor_units, supervisors


async def get(
    session: AsyncSession, supervisor_id: uuid.UUID, *, for_update: bool = False
) -> Supervisor | None:
    """One supervisor, locked on PostgreSQL when ``for_update`` (SQLite writers are serialised)."""
    stmt = select(supervisors).where(supervisors.c.id == supervisor_id)
    if for_update:
        stmt = stmt.with_for_update()
    return one_as(Supervisor, await session.execute(stmt))


async def unit_ids(session: AsyncSession, supervisor_id: uuid.UUID) -> list[uuid.UUID]:
    """The supervisor's units, in id order."""
    stmt = (
        select(supervisor_units.c.unit_id)
        .where(supervisor_units.c.supervisor_id == supervisor_id)
        .order_by(supervisor_units.c.unit_id)
    )
    return list((await session.execute(stmt)).scalars())


async def unit_ids_of_many(
    session: AsyncSession, supervisor_ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, list[uuid.UUID]]:
    """The units of each supervisor (every id present, possibly with an empty list)."""
    ids = sorted(set(supervisor_ids))
    result: dict[uuid.UUID, list[uuid.UUID]] = {i: [] for i in ids}
    if not ids:
        return result
    stmt = (
        select(supervisor_units.c.supervisor_id, supervisor_units.c.unit_id)
        .where(supervisor_units.c.supervisor_id.in_(ids))
        .order_by(supervisor_units.c.supervisor_id, supervisor_units.c.unit_id)
    )
    for supervisor_id, unit_id in (await session.execute(stmt)).all():
        result[supervisor_id].append(unit_id)
    return result


async def hsa_id_used_by_other(
    session: AsyncSession, hsa_id: str, *, supervisor_id: uuid.UUID | None = None
) -> bool:
    """True when a supervisor other than ``supervisor_id`` has ``hsa_id``."""
    stmt = select(supervisors.c.id).where(supervisors.c.hsa_id == hsa_id)
    if supervisor_id is not None:
        stmt = stmt.where(supervisors.c.id != supervisor_id)
    return (await session.execute(stmt.limit(1))).first() is not None


async def reference_used_by_other(
    session: AsyncSession,
    employer_id: uuid.UUID,
    reference: str,
    *,
    supervisor_id: uuid.UUID | None = None,
) -> bool:
    """True when another supervisor of the employer has the employer reference."""
    stmt = select(supervisors.c.id).where(
        supervisors.c.employer_id == employer_id, supervisors.c.employer_reference == reference
    )
    if supervisor_id is not None:
        stmt = stmt.where(supervisors.c.id != supervisor_id)
    return (await session.execute(stmt.limit(1))).first() is not None


async def add(session: AsyncSession, values: dict[str, Any]) -> None:
    """Insert a supervisor."""
    await session.execute(insert(supervisors).values(**values))


async def change(session: AsyncSession, supervisor_id: uuid.UUID, values: dict[str, Any]) -> None:
    """Apply ``values`` and count the change in ``version``."""
    await session.execute(
        update(supervisors)
        .where(supervisors.c.id == supervisor_id)
        .values(**values, version=supervisors.c.version + 1)
    )


async def replace_units(
    session: AsyncSession, supervisor_id: uuid.UUID, unit_ids: Iterable[uuid.UUID]
) -> None:
    """Make ``unit_ids`` the supervisor's units."""
    await session.execute(
        delete(supervisor_units).where(supervisor_units.c.supervisor_id == supervisor_id)
    )
    rows = [{"supervisor_id": supervisor_id, "unit_id": u} for u in sorted(set(unit_ids))]
    if rows:
        await session.execute(insert(supervisor_units), rows)


@dataclass(frozen=True)
class ListFilter:
    """What a supervisor list is narrowed to (by the caller's query and by privacy)."""

    employer_id: uuid.UUID | None = None
    unit_id: uuid.UUID | None = None
    profession_code: str | None = None
    qualified: bool | None = None
    # Privacy, when either is set: only the employer's own supervisors, or those ever
    # assigned to the university's bookings (both set: either).
    visible_employer_id: uuid.UUID | None = None
    visible_university_id: uuid.UUID | None = None
    # Privacy: the caller sees nothing (a provider or university without an organisation).
    nothing: bool = False


async def page(
    session: AsyncSession, *, where: ListFilter, after: uuid.UUID | None, limit: int
) -> list[Supervisor]:
    """Supervisors in id order (UUIDv7: registration order) after ``after``, at most ``limit``."""
    c = supervisors.c
    stmt = select(supervisors).order_by(c.id).limit(limit)
    if where.employer_id is not None:
        stmt = stmt.where(c.employer_id == where.employer_id)
    if where.unit_id is not None:
        stmt = stmt.where(
            c.id.in_(
                select(supervisor_units.c.supervisor_id).where(
                    supervisor_units.c.unit_id == where.unit_id
                )
            )
        )
    if where.profession_code is not None:
        stmt = stmt.where(c.profession_code == where.profession_code)
    if where.qualified is not None:
        stmt = stmt.where(c.qualified == where.qualified)
    if where.nothing:
        stmt = stmt.where(false())
    visible = []
    if where.visible_employer_id is not None:
        visible.append(c.employer_id == where.visible_employer_id)
    if where.visible_university_id is not None:
        visible.append(c.id.in_(supervisors_of_university(where.visible_university_id)))
    if visible:
        stmt = stmt.where(or_(*visible))
    if after is not None:
        stmt = stmt.where(c.id > after)
    return all_as(Supervisor, await session.execute(stmt))
