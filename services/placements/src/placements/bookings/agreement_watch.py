"""Flag bookings that outlast the agreement covering them.

A reaction of the bookings feature to agreement events, chained after the agreement read
model's handler in the service's subscriptions: once the projection holds the event, the
watch reads every projected version of that agreement's series.

A booking is covered by its series, not by one version: an amendment ends its
predecessor the day before it takes effect, and the new version carries the placement
on. So a booking is flagged when the versions that
are or were in force (active, notice given, terminated, expired), chained from the
booking's first day without a gap, stop before its last day: a termination after
notice, an expiry without renewal, or an end date moved earlier.

Flagging sets ``agreement_ends_on`` (the last covered day) with a conditional UPDATE on
it being unset, and emits ``booking.agreement_ended`` in the same transaction: exactly one
event per booking, however often the series' events are delivered. Requested, confirmed
and in-progress bookings are flagged; finished ones (completed, declined, cancelled) are
left alone. A later amendment that narrows the programmes or places does not flag
existing bookings: they were agreed under the terms in force then.

New bookings need no watch: the gate decides them from the same projection.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, timedelta

from sqlalchemy.ext.asyncio import AsyncSession
from vfu_common.events.contracts import BOOKING_AGREEMENT_ENDED, AgreementTermsV1
from vfu_common.events.envelope import Envelope
from vfu_common.messaging.consumer import Handler
from vfu_common.utc import utcnow
from vfu_domain.coverage import IN_FORCE_STATUSES

from placements.bookings import repository
from placements.bookings.events import emit_booking_event
from placements.bookings.models import bookings
from placements.bookings.transitions import LIVE_STATUSES
from placements.projections.agreements import (
    AGREEMENT_CONTRACTS,
    SeriesVersion,
    series_versions,
)


def last_covered_day(versions: Sequence[SeriesVersion], first_day: date) -> date | None:
    """The last day the versions cover without a gap from ``first_day``; None: open-ended.

    ``versions`` are already restricted to versions in force; ``effective_until`` is the
    last day each covers, None when open-ended.
    """
    reach = first_day  # the first day not known to be covered
    for version in sorted(versions, key=lambda v: v.valid_from):
        if version.valid_from > reach:
            break
        until = version.effective_until
        if until is None:
            return None
        reach = max(reach, until + timedelta(days=1))
    return reach - timedelta(days=1)


async def flag_bookings_past_agreement(
    session: AsyncSession, series: Sequence[SeriesVersion]
) -> list[uuid.UUID]:
    """Flag (and announce) bookings under ``series`` (every projected version of one
    agreement series) that outlast it; their ids."""
    in_force = [v for v in series if v.status in IN_FORCE_STATUSES]
    candidates = await repository.unflagged_under(
        session, [v.agreement_id for v in series], LIVE_STATUSES
    )
    flagged = []
    for booking in candidates:
        last_day = last_covered_day(in_force, booking.start_date)
        if last_day is None or booking.end_date <= last_day:
            continue
        row = await repository.update_if_unchanged(
            session,
            booking,
            values={"agreement_ends_on": last_day, "updated_at": utcnow()},
            where=[bookings.c.agreement_ends_on.is_(None)],
        )
        if row is None:  # flagged (or changed) by a concurrent delivery: nothing to add
            continue
        count = await repository.student_count(session, booking.id)
        await emit_booking_event(session, BOOKING_AGREEMENT_ENDED, row, student_count=count)
        flagged.append(booking.id)
    return flagged


async def on_agreement_event(
    session: AsyncSession, envelope: Envelope, payload: AgreementTermsV1
) -> None:
    """Flag the bookings under the event's series that now outlast it.

    Runs on every delivery, also of an event the projection found stale: the flagging is
    decided from the projection's current versions and is idempotent.
    """
    await flag_bookings_past_agreement(session, await series_versions(session, payload.series_id))


HANDLERS: dict[str, Handler] = {
    contract.event_type: on_agreement_event for contract in AGREEMENT_CONTRACTS
}
