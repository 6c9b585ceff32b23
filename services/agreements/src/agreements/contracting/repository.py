"""Queries of the agreement aggregate."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, false, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload
from vfu_common.utc import utcnow

from agreements.contracting.models import Agreement, AgreementParty
from agreements.organisations.models import Organisation, OrganisationHealthcareRegion

_FULL = (
    selectinload(Agreement.parties),
    selectinload(Agreement.scope),
    selectinload(Agreement.quotas),
    selectinload(Agreement.rates),
    selectinload(Agreement.documents),
)


async def get_full(
    session: AsyncSession, agreement_id: uuid.UUID, *, for_update: bool = False
) -> Agreement | None:
    """One agreement version with every term loaded, fresh from the database.

    ``for_update`` locks the row on PostgreSQL so concurrent changes to one agreement
    queue (SQLite's BEGIN IMMEDIATE already serialises writers).
    """
    stmt = (
        select(Agreement)
        .where(Agreement.id == agreement_id)
        .options(*_FULL)
        .execution_options(populate_existing=True)
    )
    if for_update:
        stmt = stmt.with_for_update()
    return (await session.execute(stmt)).scalar_one_or_none()


async def list_full(session: AsyncSession, ids: Sequence[uuid.UUID]) -> list[Agreement]:
    """Several agreement versions with their terms, in id order."""
    if not ids:
        return []
    result = await session.execute(
        select(Agreement)
        .where(Agreement.id.in_(ids))
        .options(*_FULL)
        .order_by(Agreement.id)
        .execution_options(populate_existing=True)
    )
    return list(result.scalars().all())


async def lock_organisations(
    session: AsyncSession, organisation_ids: Collection[uuid.UUID]
) -> list[Organisation]:
    """The organisations with these ids, locked in id order.

    Locking the parties serialises concurrent creations between the same parties on
    PostgreSQL, so two overlapping drafts cannot both pass the overlap check.
    """
    result = await session.execute(
        select(Organisation)
        .where(Organisation.id.in_(organisation_ids))
        .order_by(Organisation.id)
        .with_for_update()
    )
    return list(result.scalars().all())


async def agreements_with_parties(
    session: AsyncSession, organisation_ids: Collection[uuid.UUID], statuses: Sequence[str]
) -> list[Agreement]:
    """Agreements in ``statuses`` whose parties are exactly ``organisation_ids``."""
    wanted = set(organisation_ids)
    result = await session.execute(
        select(Agreement.id).where(
            Agreement.status.in_(statuses), *(_has_party(o) for o in sorted(wanted))
        )
    )
    candidates = await list_full(session, list(result.scalars().all()))
    return [a for a in candidates if {p.organisation_id for p in a.parties} == wanted]


async def agreements_between(
    session: AsyncSession, first: uuid.UUID, second: uuid.UUID
) -> list[Agreement]:
    """Every agreement version that has both organisations as parties."""
    both = and_(
        _has_party(first),
        _has_party(second),
    )
    result = await session.execute(select(Agreement.id).where(both))
    return await list_full(session, list(result.scalars().all()))


def _has_party(organisation_id: uuid.UUID) -> ColumnElement[bool]:
    return exists().where(
        AgreementParty.agreement_id == Agreement.id,
        AgreementParty.organisation_id == organisation_id,
    )


@dataclass(frozen=True)
class Visibility:
    """Which agreements a list may show: everything, or those with a party that is the
    given organisation or belongs to one of the given healthcare regions."""

    everything: bool = False
    organisation_id: uuid.UUID | None = None
    regions: frozenset[str] = frozenset()


def _has_party_in_regions(regions: frozenset[str]) -> ColumnElement[bool]:
    return exists().where(
        AgreementParty.agreement_id == Agreement.id,
        AgreementParty.organisation_id == OrganisationHealthcareRegion.organisation_id,
        OrganisationHealthcareRegion.healthcare_region.in_(sorted(regions)),
    )


def _visible(visible: Visibility) -> ColumnElement[bool] | None:
    if visible.everything:
        return None
    conditions = []
    if visible.organisation_id is not None:
        conditions.append(_has_party(visible.organisation_id))
    if visible.regions:
        conditions.append(_has_party_in_regions(visible.regions))
    return or_(*conditions) if conditions else false()


async def page(
    session: AsyncSession,
    *,
    visible: Visibility,
    after: uuid.UUID | None,
    limit: int,
) -> list[Agreement]:
    """A page of the visible agreement versions in id order."""
    stmt = select(Agreement.id).order_by(Agreement.id).limit(limit)
    condition = _visible(visible)
    if condition is not None:
        stmt = stmt.where(condition)
    if after is not None:
        stmt = stmt.where(Agreement.id > after)
    ids = list((await session.execute(stmt)).scalars().all())
    return await list_full(session, ids)


async def series(session: AsyncSession, series_id: uuid.UUID) -> list[Agreement]:
    """Every version of a series, oldest first."""
    result = await session.execute(select(Agreement.id).where(Agreement.series_id == series_id))
    versions = await list_full(session, list(result.scalars().all()))
    return sorted(versions, key=lambda a: a.version_number)


async def next_version_number(session: AsyncSession, series_id: uuid.UUID) -> int:
    """One more than the highest version number of the series (abandoned ones included)."""
    highest = await session.scalar(
        select(func.max(Agreement.version_number)).where(Agreement.series_id == series_id)
    )
    return int(highest or 0) + 1


async def update_if_in(
    session: AsyncSession,
    agreement_id: uuid.UUID,
    *,
    expected: str | Collection[str],
    values: dict[str, Any],
    where: Sequence[ColumnElement[bool]] = (),
) -> int | None:
    """Change an agreement only if it is still in an ``expected`` status; bump its version.
    A status is changed only by ``contracting.transitions``.

    The condition is in the UPDATE itself, so of two writers racing (two schedulers, a
    scheduler and a request) exactly one wins and emits the event. Returns the new
    aggregate version, or None when the row no longer matched.
    """
    states = (expected,) if isinstance(expected, str) else tuple(expected)
    stmt = (
        update(Agreement)
        .where(Agreement.id == agreement_id, Agreement.status.in_(states), *where)
        .values(version=Agreement.version + 1, updated_at=utcnow(), **values)
        .returning(Agreement.version)
        .execution_options(synchronize_session=False)
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def sign(
    session: AsyncSession, agreement_id: uuid.UUID, organisation_id: uuid.UUID, *, subject: str
) -> bool:
    """Record a party's signature unless it has signed; True when this call signed."""
    result = await session.execute(
        update(AgreementParty)
        .where(
            AgreementParty.agreement_id == agreement_id,
            AgreementParty.organisation_id == organisation_id,
            AgreementParty.signed_at.is_(None),
        )
        .values(signed_at=utcnow(), signed_by=subject)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def all_signed() -> ColumnElement[bool]:
    """SQL condition: no party of the agreement is still to sign."""
    return ~exists().where(
        AgreementParty.agreement_id == Agreement.id, AgreementParty.signed_at.is_(None)
    )


async def fully_signed_from(
    session: AsyncSession, today: date, statuses: Sequence[str]
) -> list[uuid.UUID]:
    """Fully signed agreements in ``statuses`` whose valid_from has arrived."""
    result = await session.execute(
        select(Agreement.id).where(
            Agreement.status.in_(statuses),
            Agreement.valid_from <= today,
            all_signed(),
        )
    )
    return list(result.scalars().all())


def end_date() -> ColumnElement[Any]:
    """The last covered day: effective_until when set, else valid_to."""
    return func.coalesce(Agreement.effective_until, Agreement.valid_to)


async def ended_before(
    session: AsyncSession, today: date, statuses: Sequence[str]
) -> list[uuid.UUID]:
    """Agreements in ``statuses`` whose last covered day has passed."""
    result = await session.execute(
        select(Agreement.id).where(Agreement.status.in_(statuses), end_date() < today)
    )
    return list(result.scalars().all())


async def expiring_unreminded(
    session: AsyncSession, today: date, last_day: date, statuses: Sequence[str]
) -> list[uuid.UUID]:
    """Agreements in ``statuses`` expiring by ``last_day`` that were not reminded yet."""
    result = await session.execute(
        select(Agreement.id).where(
            Agreement.status.in_(statuses),
            Agreement.valid_to.is_not(None),
            Agreement.valid_to >= today,
            Agreement.valid_to <= last_day,
            Agreement.expiry_reminder_sent_on.is_(None),
        )
    )
    return list(result.scalars().all())
