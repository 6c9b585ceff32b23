"""The agreement read model: the placements service's copy of every agreement version.

The agreement gate decides bookings from this copy, never by calling the agreements
service. Every agreement event carries the full ``AgreementTermsV1``, so each
event simply replaces the row of its ``agreement_id`` when its aggregate version is newer
than the stored one: order and duplicates cannot corrupt the model, and replaying the
AGREEMENTS stream from the start rebuilds it.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import (
    Column,
    Date,
    ForeignKeyConstraint,
    Index,
    Integer,
    Select,
    String,
    Table,
    Text,
    Uuid,
    delete,
    insert,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession
from vfu_common.db import UtcDateTime, new_metadata, upsert_if_newer
from vfu_common.events.contracts import (
    PROVIDER_ROLES,
    AgreementTermsV1,
    platform_contracts,
)
from vfu_common.events.envelope import Envelope
from vfu_common.messaging.consumer import Handler
from vfu_common.rows import all_as
from vfu_common.utc import utcnow
from vfu_domain.coverage import effective_until

metadata = new_metadata()

AGREEMENTS_TABLE = "agreement_projection"
PARTIES_TABLE = "agreement_projection_parties"
# Named explicitly: the convention's name would exceed PostgreSQL's 63-character limit.
_PARTIES_FK = "fk_agreement_projection_parties_agreement"
# Serves "which agreements have organisation X in role R" without touching the main table.
_PARTIES_BY_ORGANISATION = "ix_agreement_projection_parties_organisation_id"
_TERMS_FIELDS = frozenset(AgreementTermsV1.model_fields)


def _agreement_columns() -> list[Any]:
    return [
        Column("agreement_id", Uuid, primary_key=True),
        Column("series_id", Uuid, nullable=False),
        Column("status", String(32), nullable=False),
        # The full AgreementTermsV1 as JSON text: parsed straight back into the model, so
        # the coverage rule sees exactly what the agreements service published.
        Column("terms", Text, nullable=False),
        Column("valid_from", Date, nullable=False),
        # The last day covered (the terms' effective_until, else valid_to); NULL: open-ended.
        Column("effective_until", Date, nullable=True),
        Column("aggregate_version", Integer, nullable=False),
        Column("updated_at", UtcDateTime, nullable=False),
    ]


def _party_columns() -> list[Any]:
    return [
        Column("agreement_id", Uuid, primary_key=True),
        Column("organisation_id", Uuid, primary_key=True),
        Column("role", String(32), primary_key=True),
        ForeignKeyConstraint(
            ["agreement_id"],
            [f"{AGREEMENTS_TABLE}.agreement_id"],
            name=_PARTIES_FK,
            ondelete="CASCADE",
        ),
    ]


_PARTIES_INDEX_COLUMNS = ("organisation_id", "role", "agreement_id")

agreements = Table(AGREEMENTS_TABLE, metadata, *_agreement_columns())
agreement_parties = Table(PARTIES_TABLE, metadata, *_party_columns())
Index(_PARTIES_BY_ORGANISATION, *(agreement_parties.c[name] for name in _PARTIES_INDEX_COLUMNS))


def terms_of(payload: AgreementTermsV1) -> AgreementTermsV1:
    """The terms an event carries, without its event-specific fields (signer, days left)."""
    return AgreementTermsV1.model_validate(payload.model_dump(include=set(_TERMS_FIELDS)))


async def on_agreement_event(
    session: AsyncSession, envelope: Envelope, payload: AgreementTermsV1
) -> None:
    """Apply the terms any agreement event carries, if its aggregate version is newer.

    An ``amended`` event carries the new version's terms under its own ``agreement_id``;
    the superseded version's row changes only through that version's own later event
    (which brings its shortened ``effective_until``), so nothing is inferred here.
    """
    terms = terms_of(payload)
    written = await upsert_if_newer(
        session,
        agreements,
        {
            "agreement_id": terms.agreement_id,
            "series_id": terms.series_id,
            "status": terms.status,
            "terms": terms.model_dump_json(),
            "valid_from": terms.valid_from,
            "effective_until": effective_until(terms),
            "aggregate_version": envelope.aggregateversion,
            "updated_at": utcnow(),
        },
        key="agreement_id",
    )
    if written:
        await _replace_parties(session, terms)


@dataclass(frozen=True)
class SeriesVersion:
    """One projected version of an agreement series, as the agreement watch reads it."""

    agreement_id: uuid.UUID
    status: str
    valid_from: date
    effective_until: date | None  # the last day it covers; None: open-ended


async def series_versions(session: AsyncSession, series_id: uuid.UUID) -> list[SeriesVersion]:
    """Every projected version of a series."""
    stmt = select(
        agreements.c.agreement_id,
        agreements.c.status,
        agreements.c.valid_from,
        agreements.c.effective_until,
    ).where(agreements.c.series_id == series_id)
    return all_as(SeriesVersion, await session.execute(stmt))


async def _replace_parties(session: AsyncSession, terms: AgreementTermsV1) -> None:
    # Parties can change between versions of the same row (e.g. a draft gaining a party),
    # so the rows are replaced, not merged. The upsert above holds the row lock on
    # PostgreSQL, so a concurrent older event cannot interleave.
    await session.execute(
        delete(agreement_parties).where(agreement_parties.c.agreement_id == terms.agreement_id)
    )
    # A party listed twice in the same role would break the primary key; keep it once.
    rows = dict.fromkeys((party.organisation_id, party.role) for party in terms.parties)
    if rows:
        await session.execute(
            insert(agreement_parties),
            [
                {"agreement_id": terms.agreement_id, "organisation_id": org, "role": role}
                for org, role in rows
            ],
        )


# Every agreement event carries the full terms, so one handler applies them all; taking the
# list from the registry means a new agreement event is projected without a change here.
AGREEMENT_CONTRACTS = [
    contract for contract in platform_contracts() if contract.aggregate_type == "agreement"
]

HANDLERS: dict[str, Handler] = {
    contract.event_type: on_agreement_event for contract in AGREEMENT_CONTRACTS
}


def _agreements_with(organisation_id: Any, roles: Iterable[str]) -> Any:
    return select(agreement_parties.c.agreement_id).where(
        agreement_parties.c.organisation_id == organisation_id,
        agreement_parties.c.role.in_(sorted(roles)),
    )


def terms_between_query(university_id: Any, provider_id: Any) -> Select[tuple[str]]:
    """The SELECT of ``terms_between``; the ids may be values or SQL expressions (a bound
    parameter, a subquery), so a hot path can build it once."""
    return (
        select(agreements.c.terms)
        .where(
            agreements.c.agreement_id.in_(_agreements_with(university_id, {"university"})),
            agreements.c.agreement_id.in_(_agreements_with(provider_id, PROVIDER_ROLES)),
        )
        .order_by(agreements.c.agreement_id)
    )


def parse_terms(texts: Iterable[Any]) -> list[AgreementTermsV1]:
    """Terms as stored (JSON text) back into the model the coverage rule takes."""
    return [AgreementTermsV1.model_validate_json(text) for text in texts]


async def terms_between(
    session: AsyncSession, *, university_id: uuid.UUID, provider_id: uuid.UUID
) -> list[AgreementTermsV1]:
    """Terms of every agreement with the university as university and the provider as provider.

    The same party test as the coverage rule's, so agreements left out here are exactly
    those the rule would skip.
    """
    stmt = terms_between_query(university_id, provider_id)
    return parse_terms((await session.execute(stmt)).scalars())
