"""SQL of the reports: the registry's supervisors and the projections of units and offers.

Every statement takes the caller's ``ReportScope``; callers handle the empty scope before
asking (it reads nothing).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, func, select, true
from sqlalchemy.ext.asyncio import AsyncSession
from vfu_common.rows import all_as

from supervisors.projections.offers import offer_projection
from supervisors.projections.units import unit_projection
from supervisors.registry.models import supervisor_units, supervisors
from supervisors.reports.access import ReportScope

UnitKey = tuple[uuid.UUID, uuid.UUID, str]  # (provider_id, unit_id, profession_code)


@dataclass(frozen=True)
class SupervisorQualification:
    """An active supervisor's qualification, as the reports read it (no personal field)."""

    id: uuid.UUID
    employer_id: uuid.UUID
    profession_code: str
    licence_verified: bool
    level_achieved: str | None
    required_level: str
    qualified: bool
    qualification_lapsed_at: datetime | None


@dataclass(frozen=True)
class KnownUnit:
    """A unit as the unit projection knows it."""

    unit_id: uuid.UUID
    provider_id: uuid.UUID
    name: str


@dataclass(frozen=True)
class OpenOffer:
    """A published offer that has not ended, as the offer projection knows it."""

    offer_id: uuid.UUID
    provider_id: uuid.UUID
    unit_id: uuid.UUID
    profession_code: str
    term: str
    places: int
    supervision_model: str


def _of_scope(column: Any, scope: ReportScope) -> ColumnElement[bool]:
    return true() if scope.everyone else column == scope.provider_id


def _active_in(scope: ReportScope) -> list[ColumnElement[bool]]:
    return [supervisors.c.active.is_(True), _of_scope(supervisors.c.employer_id, scope)]


async def active_supervisors(
    session: AsyncSession, scope: ReportScope
) -> list[SupervisorQualification]:
    """The scope's active supervisors with their qualification (no personal fields)."""
    stmt = (
        select(
            supervisors.c.id,
            supervisors.c.employer_id,
            supervisors.c.profession_code,
            supervisors.c.licence_verified,
            supervisors.c.level_achieved,
            supervisors.c.required_level,
            supervisors.c.qualified,
            supervisors.c.qualification_lapsed_at,
        )
        .where(*_active_in(scope))
        .order_by(supervisors.c.employer_id, supervisors.c.id)
    )
    return all_as(SupervisorQualification, await session.execute(stmt))


async def unit_links(
    session: AsyncSession, scope: ReportScope
) -> list[tuple[uuid.UUID, uuid.UUID]]:
    """(supervisor_id, unit_id) of the scope's active supervisors."""
    stmt = (
        select(supervisor_units.c.supervisor_id, supervisor_units.c.unit_id)
        .join(supervisors, supervisors.c.id == supervisor_units.c.supervisor_id)
        .where(*_active_in(scope))
    )
    return [(row.supervisor_id, row.unit_id) for row in await session.execute(stmt)]


async def known_units(session: AsyncSession, scope: ReportScope) -> list[KnownUnit]:
    """The scope's units as the unit projection knows them (id, provider, name)."""
    stmt = select(
        unit_projection.c.unit_id, unit_projection.c.provider_id, unit_projection.c.name
    ).where(_of_scope(unit_projection.c.provider_id, scope))
    return all_as(KnownUnit, await session.execute(stmt))


async def open_published_offers(
    session: AsyncSession, scope: ReportScope, on: date
) -> list[OpenOffer]:
    """The scope's published offers that have not ended by ``on``."""
    offers = offer_projection
    stmt = (
        select(
            offers.c.offer_id,
            offers.c.provider_id,
            offers.c.unit_id,
            offers.c.profession_code,
            offers.c.term,
            offers.c.places,
            offers.c.supervision_model,
        )
        .where(
            offers.c.status == "published",
            offers.c.end_date >= on,
            _of_scope(offers.c.provider_id, scope),
        )
        .order_by(offers.c.offer_id)
    )
    return all_as(OpenOffer, await session.execute(stmt))


async def qualified_per_unit(session: AsyncSession, scope: ReportScope) -> dict[UnitKey, int]:
    """Active qualified supervisors per (employer, unit, profession)."""
    key = (supervisors.c.employer_id, supervisor_units.c.unit_id, supervisors.c.profession_code)
    stmt = (
        select(*key, func.count().label("qualified"))
        .select_from(supervisor_units)
        .join(supervisors, supervisors.c.id == supervisor_units.c.supervisor_id)
        .where(*_active_in(scope), supervisors.c.qualified.is_(True))
        .group_by(*key)
    )
    return {
        (row.employer_id, row.unit_id, row.profession_code): row.qualified
        for row in await session.execute(stmt)
    }
