"""The agreement requirement read model: which agreements raise the supervision level.

An agreement may set a ``supervision_requirement_level`` stricter than the default for its
profession; placements under it then need supervisors trained to that level. The service
keeps, per agreement version, only what that question needs: status, provider parties,
professions, programmes, dates and the level. Every agreement event carries the full
``AgreementTermsV1``, so each event replaces its ``agreement_id``'s row when its aggregate
version is newer, and the provider parties are replaced with it.

Agreements store the level as a free code. A level the qualification rule does not know
cannot be compared, so it raises nothing here: the default stands and the level is
reported (``unknown_levels``) for a person to fix, instead of failing a whole report.

An agreement covers a profession when it lists it in ``professions`` (supervisors have a
profession, not a programme). Its unit or municipality scope is not applied: a provider's
requirement is the strictest of any covering agreement, which may overstate it for units
outside a scoped agreement but never understates it.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any, Final

from sqlalchemy import (
    Column,
    Date,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    Table,
    Text,
    Uuid,
    delete,
    insert,
    or_,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import conv
from vfu_common.db import UtcDateTime, upsert_if_newer
from vfu_common.events.contracts import PROVIDER_ROLES, AgreementTermsV1, platform_contracts
from vfu_common.events.envelope import Envelope
from vfu_common.messaging.consumer import Handler
from vfu_common.utc import utcnow
from vfu_domain.coverage import COVERING_STATUSES, effective_until
from vfu_domain.qualification import is_known_level, level_rank, stricter_level

from supervisors.models import metadata

TABLE: Final = "agreement_requirement_projection"
PROVIDERS_TABLE: Final = "agreement_requirement_providers"
# Named explicitly: the convention's name would exceed PostgreSQL's 63-character limit.
_PROVIDERS_FK: Final = "fk_agreement_requirement_providers_agreement"
_PROVIDERS_BY_PROVIDER: Final = "ix_agreement_requirement_providers_provider"


def _agreement_columns() -> list[Any]:
    return [
        Column("agreement_id", Uuid, primary_key=True),
        Column("status", String(32), nullable=False),
        # JSON lists of codes, read back whole: no query filters on them.
        Column("professions", Text, nullable=False),
        Column("programmes", Text, nullable=False),
        Column("valid_from", Date, nullable=False),
        # The last day covered (the terms' effective_until, else valid_to); NULL: open-ended.
        Column("effective_until", Date, nullable=True),
        # Text, not a closed vocabulary: an unknown code must be stored to be reported.
        Column("supervision_requirement_level", Text, nullable=True),
        Column("aggregate_version", Integer, nullable=False),
        Column("updated_at", UtcDateTime, nullable=False),
    ]


def _provider_columns() -> list[Any]:
    return [
        Column("agreement_id", Uuid, primary_key=True),
        Column("provider_id", Uuid, primary_key=True),
        ForeignKeyConstraint(
            ["agreement_id"],
            [f"{TABLE}.agreement_id"],
            name=conv(_PROVIDERS_FK),
            ondelete="CASCADE",
        ),
    ]


agreement_requirements = Table(TABLE, metadata, *_agreement_columns())
agreement_requirement_providers = Table(PROVIDERS_TABLE, metadata, *_provider_columns())
Index(
    _PROVIDERS_BY_PROVIDER,
    agreement_requirement_providers.c.provider_id,
    agreement_requirement_providers.c.agreement_id,
)


async def on_agreement_event(
    session: AsyncSession, envelope: Envelope, payload: AgreementTermsV1
) -> None:
    """Apply the terms any agreement event carries, if its aggregate version is newer."""
    written = await upsert_if_newer(
        session,
        agreement_requirements,
        {
            "agreement_id": payload.agreement_id,
            "status": payload.status,
            "professions": json.dumps(sorted(set(payload.professions))),
            "programmes": json.dumps(sorted(set(payload.programmes))),
            "valid_from": payload.valid_from,
            "effective_until": effective_until(payload),
            "supervision_requirement_level": payload.supervision_requirement_level,
            "aggregate_version": envelope.aggregateversion,
            "updated_at": utcnow(),
        },
        key="agreement_id",
    )
    if written:
        await _replace_providers(session, payload)


async def _replace_providers(session: AsyncSession, terms: AgreementTermsV1) -> None:
    # Parties can change between events of one version (a draft gaining a party), so they
    # are replaced, not merged; the upsert above holds the row lock on PostgreSQL.
    await session.execute(
        delete(agreement_requirement_providers).where(
            agreement_requirement_providers.c.agreement_id == terms.agreement_id
        )
    )
    # A provider may be party in two provider roles; one row each.
    providers = sorted(
        {party.organisation_id for party in terms.parties if party.role in PROVIDER_ROLES}
    )
    if providers:
        await session.execute(
            insert(agreement_requirement_providers),
            [{"agreement_id": terms.agreement_id, "provider_id": p} for p in providers],
        )


@dataclass(frozen=True)
class AgreementRequirement:
    """One covering agreement's supervision requirement (``level`` None: sets none)."""

    agreement_id: uuid.UUID
    professions: frozenset[str]
    level: str | None


@dataclass(frozen=True)
class UnknownLevel:
    """An agreement's requirement level that the qualification rule does not know."""

    agreement_id: uuid.UUID
    level: str


@dataclass(frozen=True)
class RequiredLevel:
    """The level a profession needs at a provider, and the agreements behind it."""

    level: str
    # Covering agreements whose level is the one required and stricter than the default.
    raised_by: tuple[uuid.UUID, ...]
    unknown_levels: tuple[UnknownLevel, ...]


async def covering_requirements(
    session: AsyncSession, provider_id: uuid.UUID, on: date
) -> list[AgreementRequirement]:
    """Agreements that cover placements at ``provider_id`` on ``on`` (active or under
    notice, ``on`` within their dates), whatever their professions."""
    providers = agreement_requirement_providers
    stmt = (
        select(
            agreement_requirements.c.agreement_id,
            agreement_requirements.c.professions,
            agreement_requirements.c.supervision_requirement_level,
        )
        .where(
            agreement_requirements.c.agreement_id.in_(
                select(providers.c.agreement_id).where(providers.c.provider_id == provider_id)
            ),
            agreement_requirements.c.status.in_(sorted(COVERING_STATUSES)),
            agreement_requirements.c.valid_from <= on,
            or_(
                agreement_requirements.c.effective_until.is_(None),
                agreement_requirements.c.effective_until >= on,
            ),
        )
        .order_by(agreement_requirements.c.agreement_id)
    )
    return [
        AgreementRequirement(
            agreement_id=row.agreement_id,
            professions=frozenset(json.loads(row.professions)),
            level=row.supervision_requirement_level,
        )
        for row in await session.execute(stmt)
    ]


def strictest_requirement(
    requirements: Iterable[AgreementRequirement], profession_code: str, default: str
) -> RequiredLevel:
    """The stricter of ``default`` and the strictest known level among ``requirements``
    naming ``profession_code``; unknown levels are collected, not applied."""
    applicable = [r for r in requirements if profession_code in r.professions]
    level = default
    for requirement in applicable:
        if requirement.level is not None and is_known_level(requirement.level):
            level = stricter_level(level, requirement.level)
    raised_by: tuple[uuid.UUID, ...] = ()
    if level_rank(level) > level_rank(default):
        raised_by = tuple(r.agreement_id for r in applicable if r.level == level)
    return RequiredLevel(
        level=level, raised_by=raised_by, unknown_levels=unknown_levels(applicable)
    )


def unknown_levels(requirements: Iterable[AgreementRequirement]) -> tuple[UnknownLevel, ...]:
    """The requirement levels among ``requirements`` the qualification rule does not know."""
    return tuple(
        UnknownLevel(r.agreement_id, r.level)
        for r in requirements
        if r.level is not None and not is_known_level(r.level)
    )


async def required_level_for(
    session: AsyncSession, provider_id: uuid.UUID, profession_code: str, on: date, default: str
) -> str:
    """The level supervisors of ``profession_code`` at ``provider_id`` need on ``on``: the
    stricter of ``default`` and every covering agreement's known requirement level."""
    requirements = await covering_requirements(session, provider_id, on)
    return strictest_requirement(requirements, profession_code, default).level


# Every agreement event carries the full terms, so one handler applies them all; taking the
# list from the registry means a new agreement event is projected without a change here.
HANDLERS: dict[str, Handler] = {
    contract.event_type: on_agreement_event
    for contract in platform_contracts()
    if contract.aggregate_type == "agreement"
}
