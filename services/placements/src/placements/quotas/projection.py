"""Keep ``quota_use`` in step with the agreements: a reaction to agreement events.

Chained after the agreement read model's handler in the service's subscriptions: once
the projection holds the event, the series' quota rows take the kind and amount of the
series' latest covering version (active or under notice). Nothing changes while no
version covers (a draft, or a series that has ended: its rows keep their use for
reading). A quota the latest version drops is removed; one it adds starts from the use
of the bookings already made under the series, so use never depends on when a quota
appeared. Order and duplicates cannot corrupt the rows: each event recomputes them from
the version-guarded projection.

On PostgreSQL the series' projected rows are locked first. A booking reads them FOR
SHARE, so a recount waits for bookings in flight to commit and sees them, and a booking
that starts meanwhile waits for the recount and then counts against the new rows.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import ColumnElement, case, delete, insert, literal, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from vfu_common.events.contracts import AgreementTermsV1, QuotaV1
from vfu_common.events.envelope import Envelope
from vfu_common.messaging.consumer import Handler
from vfu_common.rows import all_as
from vfu_common.utc import utcnow
from vfu_domain.coverage import COVERING_STATUSES

from placements.bookings.models import bookings
from placements.bookings.transitions import places_taken
from placements.projections.agreements import AGREEMENT_CONTRACTS, agreements, parse_terms
from placements.quotas.claims import claim
from placements.quotas.models import QuotaUse, quota_use

_Key = tuple[uuid.UUID, str, str, str]  # university, programme code, term, unit


def _key(quota: QuotaV1) -> _Key:
    return (quota.university_organisation_id, quota.programme_code, quota.term, quota.unit)


def _row(series_id: uuid.UUID, key: _Key) -> tuple[ColumnElement[bool], ...]:
    """The WHERE conditions of one quota row."""
    q = quota_use.c
    university_id, programme_code, term, unit = key
    return (
        q.series_id == series_id,
        q.university_id == university_id,
        q.programme_code == programme_code,
        q.term == term,
        q.unit == unit,
    )


async def _series_terms(session: AsyncSession, series_id: uuid.UUID) -> list[AgreementTermsV1]:
    stmt = (
        select(agreements.c.terms)
        .where(agreements.c.series_id == series_id)
        .order_by(agreements.c.agreement_id)
        .with_for_update()
    )
    return parse_terms((await session.execute(stmt)).scalars())


async def _use_of_bookings(session: AsyncSession, versions: Sequence[uuid.UUID], key: _Key) -> int:
    """What the bookings made under the series count against a new quota of ``key``."""
    university_id, programme_code, term, unit = key
    b = bookings.c
    stmt = select(b.status, b.requested_places, b.confirmed_places, b.start_date, b.end_date).where(
        b.agreement_id.in_(versions),
        b.university_id == university_id,
        b.term == term,
        or_(b.programme_code == programme_code, b.profession_code == programme_code),
    )
    used = 0
    for row in await session.execute(stmt):
        held, confirmed = places_taken(row.status, row.requested_places, row.confirmed_places)
        taken = claim(
            university_id=university_id,
            term=term,
            codes=[programme_code],
            start=row.start_date,
            end=row.end_date,
            places=held + confirmed,
        )
        used += taken.amount(unit)
    return used


async def on_agreement_event(
    session: AsyncSession, envelope: Envelope, payload: AgreementTermsV1
) -> None:
    """Recompute the series' quota rows from its latest covering version."""
    versions = await _series_terms(session, payload.series_id)
    covering = [v for v in versions if v.status in COVERING_STATUSES]
    if not covering:
        return
    latest = max(covering, key=lambda v: v.version_number)
    wanted = {_key(q): q for q in latest.quotas}
    series_id = latest.series_id
    existing = {
        (row.university_id, row.programme_code, row.term, row.unit): row
        for row in all_as(
            QuotaUse,
            await session.execute(select(quota_use).where(quota_use.c.series_id == series_id)),
        )
    }
    now = utcnow()
    for key in existing.keys() - wanted.keys():
        await session.execute(delete(quota_use).where(*_row(series_id, key)))
    version_ids = [v.agreement_id for v in versions]
    for key, quota in wanted.items():
        if key in existing:
            await session.execute(
                update(quota_use)
                .where(*_row(series_id, key))
                .values(
                    agreement_id=latest.agreement_id,
                    kind=quota.kind,
                    amount=quota.amount,
                    excess=_excess(quota, quota_use.c.used),
                    updated_at=now,
                )
            )
            continue
        used = await _use_of_bookings(session, version_ids, key)
        await session.execute(
            insert(quota_use).values(
                series_id=series_id,
                university_id=key[0],
                programme_code=key[1],
                term=key[2],
                unit=key[3],
                agreement_id=latest.agreement_id,
                kind=quota.kind,
                amount=quota.amount,
                used=used,
                excess=max(used - quota.amount, 0) if quota.kind == "ceiling" else 0,
                updated_at=now,
            )
        )


def _excess(quota: QuotaV1, used: ColumnElement[int]) -> ColumnElement[int] | int:
    """Use above a ceiling's amount when it is set (bookings made before stand), computed
    on the row as it is at the write, so a release committed meanwhile is seen."""
    if quota.kind != "ceiling":
        return 0
    return case((used > quota.amount, used - quota.amount), else_=literal(0))


HANDLERS: dict[str, Handler] = {
    contract.event_type: on_agreement_event for contract in AGREEMENT_CONTRACTS
}
