"""Reading quota use (the counters that change it are in ``quotas.counters``)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, or_, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession
from vfu_common.events.contracts import PROVIDER_ROLES
from vfu_common.rows import all_as

from placements.projections.agreements import agreement_parties, agreements
from placements.quotas.models import QuotaUse, quota_use

_Q = quota_use.c
# The list's order, which its cursor continues.
SORT_KEY = (_Q.term, _Q.series_id, _Q.university_id, _Q.programme_code, _Q.unit)


def _series_of_version(agreement_id: uuid.UUID) -> Any:
    return (
        select(agreements.c.series_id)
        .where(agreements.c.agreement_id == agreement_id)
        .scalar_subquery()
    )


def visible_to(
    *, university_id: uuid.UUID | None, provider_id: uuid.UUID | None
) -> ColumnElement[bool]:
    """Quotas of the university, and of agreements naming the provider as a provider."""
    clauses: list[ColumnElement[bool]] = []
    if university_id is not None:
        clauses.append(_Q.university_id == university_id)
    if provider_id is not None:
        party_of = select(agreements.c.series_id).where(
            agreements.c.agreement_id.in_(
                select(agreement_parties.c.agreement_id).where(
                    agreement_parties.c.organisation_id == provider_id,
                    agreement_parties.c.role.in_(sorted(PROVIDER_ROLES)),
                )
            )
        )
        clauses.append(_Q.series_id.in_(party_of))
    return or_(*clauses) if clauses else _Q.series_id.is_(None)  # none: nothing visible


async def page(
    session: AsyncSession,
    *,
    visible: ColumnElement[bool] | None,
    agreement_id: uuid.UUID | None,
    university_id: uuid.UUID | None,
    term: str | None,
    after: Sequence[Any] | None,
    limit: int,
) -> list[QuotaUse]:
    """Quota rows in ``SORT_KEY`` order after the position ``after``."""
    stmt = select(quota_use).order_by(*SORT_KEY).limit(limit)
    if visible is not None:
        stmt = stmt.where(visible)
    if agreement_id is not None:
        stmt = stmt.where(
            or_(_Q.series_id == agreement_id, _Q.series_id == _series_of_version(agreement_id))
        )
    if university_id is not None:
        stmt = stmt.where(_Q.university_id == university_id)
    if term is not None:
        stmt = stmt.where(_Q.term == term)
    if after is not None:
        stmt = stmt.where(tuple_(*SORT_KEY) > tuple_(*after))
    return all_as(QuotaUse, await session.execute(stmt))


async def of_universities(
    session: AsyncSession, university_ids: Sequence[uuid.UUID], term: str
) -> list[QuotaUse]:
    """Every quota row of these universities in ``term``, in ``SORT_KEY`` order."""
    if not university_ids:
        return []
    stmt = (
        select(quota_use)
        .where(_Q.university_id.in_(sorted(university_ids)), _Q.term == term)
        .order_by(*SORT_KEY)
    )
    return all_as(QuotaUse, await session.execute(stmt))
