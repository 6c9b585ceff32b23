"""Every query of the bookings feature, as SQLAlchemy Core statements.

Core, not the ORM: booking is the service's hot write path, and each statement here is
one round trip with no identity-map work (the async ORM session measured at about a
third of raw asyncpg for a single update). Rows come back typed (``Booking``,
``BookedOffer``).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    and_,
    bindparam,
    case,
    delete,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from vfu_common.events.contracts import AgreementTermsV1
from vfu_common.rows import all_as, one_as

from placements.bookings.models import Booking, booking_students, bookings
from placements.offers.models import Offer, capacity_offers
from placements.projections.agreements import agreements, parse_terms, terms_between_query

# The offer fields a booking copies, so that reading or announcing it never joins the offer.
BOOKED_OFFER_FIELDS = (
    "unit_id",
    "provider_id",
    "programme_code",
    "profession_code",
    "term",
    "start_date",
    "end_date",
    "supervision_model",
)


def _rowcount(result: Any) -> int:
    return int(result.rowcount)


# --- offers ----------------------------------------------------------------------------


async def get_offer(session: AsyncSession, offer_id: uuid.UUID) -> Offer | None:
    """The offer row, or None."""
    stmt = select(capacity_offers).where(capacity_offers.c.id == offer_id)
    return one_as(Offer, await session.execute(stmt))


_OFFERS = capacity_offers.c
# The terms the booking gate decides on: every agreement naming the university and the
# offer's provider (found by a subquery, saving a round trip), read FOR SHARE on
# PostgreSQL so that an agreement event ending one of them waits for this booking to
# commit, and its agreement watch then sees (and flags) the booking.
_TERMS_FOR_OFFER = terms_between_query(
    bindparam("university"),
    select(_OFFERS.provider_id).where(_OFFERS.id == bindparam("offer")).scalar_subquery(),
).with_for_update(read=True, of=agreements)


async def terms_for_offer(
    session: AsyncSession, *, university_id: uuid.UUID, offer_id: uuid.UUID
) -> list[AgreementTermsV1]:
    """Projected terms of every agreement between the university and the offer's provider
    (none for an unknown offer)."""
    result = await session.execute(
        _TERMS_FOR_OFFER, {"university": university_id, "offer": offer_id}
    )
    return parse_terms(result.scalars())


# Hold the places, or on an auto-confirm offer confirm them at once; only on a published
# offer with that many places free. Built once: the hot path only binds its values.
_TAKE_PLACES = (
    update(capacity_offers)
    .where(
        _OFFERS.id == bindparam("offer"),
        _OFFERS.status == "published",
        _OFFERS.held_places + _OFFERS.confirmed_places + bindparam("n") <= _OFFERS.places,
    )
    .values(
        held_places=_OFFERS.held_places + case((_OFFERS.auto_confirm, 0), else_=bindparam("n")),
        confirmed_places=_OFFERS.confirmed_places
        + case((_OFFERS.auto_confirm, bindparam("n")), else_=0),
        version=_OFFERS.version + 1,
        updated_at=bindparam("at"),
    )
    .returning(*capacity_offers.c)
)


async def take_places(
    session: AsyncSession, offer_id: uuid.UUID, places: int, *, now: datetime
) -> Offer | None:
    """Take ``places`` on a published offer if they are free; the offer as changed, or None.

    One conditional UPDATE: the check and the write are one statement, so no concurrent
    booking can slip between them on either database (on PostgreSQL the row lock it takes
    is held until commit); the CHECK constraint on the table refuses an overbooking even
    if this condition were ever wrong. The places are held, or confirmed at once on an
    auto-confirm offer, and the returned row says which (``auto_confirm``).
    """
    result = await session.execute(_TAKE_PLACES, {"offer": offer_id, "n": places, "at": now})
    return one_as(Offer, result)


# Confirm places at once (an allocation being published), on a published offer with that
# many places free: the same condition and CHECK as a booking's.
_TAKE_CONFIRMED = (
    update(capacity_offers)
    .where(
        _OFFERS.id == bindparam("offer"),
        _OFFERS.status == "published",
        _OFFERS.held_places + _OFFERS.confirmed_places + bindparam("n") <= _OFFERS.places,
    )
    .values(
        confirmed_places=_OFFERS.confirmed_places + bindparam("n"),
        version=_OFFERS.version + 1,
        updated_at=bindparam("at"),
    )
    .returning(*capacity_offers.c)
)


async def take_confirmed_places(
    session: AsyncSession, offer_id: uuid.UUID, places: int, *, now: datetime
) -> Offer | None:
    """Confirm ``places`` on a published offer if they are free; the offer, or None."""
    result = await session.execute(_TAKE_CONFIRMED, {"offer": offer_id, "n": places, "at": now})
    return one_as(Offer, result)


async def move_offer_places(
    session: AsyncSession,
    offer_id: uuid.UUID,
    *,
    held: int = 0,
    confirmed: int = 0,
    now: datetime,
) -> bool:
    """Add ``held`` and ``confirmed`` (either may be negative) to the offer's counters.

    Called by a booking transition before its conditional UPDATE of the booking, in the
    same transaction. A counter is only lowered if it still holds the places to release:
    when a concurrent transition of the same booking released them first, this changes
    nothing and returns False (instead of tripping the CHECK constraint), and the caller
    reports the booking's new status.
    """
    offers = capacity_offers.c
    stmt = (
        update(capacity_offers)
        .where(
            offers.id == offer_id,
            offers.held_places + held >= 0,
            offers.confirmed_places + confirmed >= 0,
        )
        .values(
            held_places=offers.held_places + held,
            confirmed_places=offers.confirmed_places + confirmed,
            version=offers.version + 1,
            updated_at=now,
        )
    )
    return _rowcount(await session.execute(stmt)) == 1


# --- bookings --------------------------------------------------------------------------


_INSERT_BOOKING = insert(bookings)


async def insert_booking(session: AsyncSession, values: Mapping[str, Any]) -> None:
    """Insert one booking row (a statement built once; only its values are bound)."""
    await session.execute(_INSERT_BOOKING, dict(values))


async def get_booking(session: AsyncSession, booking_id: uuid.UUID) -> Booking | None:
    """The booking row, or None."""
    stmt = select(bookings).where(bookings.c.id == booking_id)
    return one_as(Booking, await session.execute(stmt))


async def update_if_unchanged(
    session: AsyncSession,
    booking: Booking,
    *,
    values: Mapping[str, Any],
    where: Iterable[ColumnElement[bool]] = (),
) -> Booking | None:
    """Apply ``values`` if the booking is still as read; the new row, or None.

    The booking must still have the status and place counts of ``booking``: those are
    what the caller decided on (and moved the offer's counters by), so a concurrent change
    makes this a no-op instead of a wrong count. The version goes up by one. A status is
    changed only by ``bookings.transitions``.
    """
    stmt = (
        update(bookings)
        .where(
            bookings.c.id == booking.id,
            bookings.c.status == booking.status,
            bookings.c.requested_places == booking.requested_places,
            bookings.c.confirmed_places == booking.confirmed_places,
            *where,
        )
        .values({**values, "version": bookings.c.version + 1})
        .returning(*bookings.c)
    )
    return one_as(Booking, await session.execute(stmt))


async def student_ids(session: AsyncSession, booking_id: uuid.UUID) -> list[str]:
    """The booking's students, in a stable order."""
    stmt = (
        select(booking_students.c.student_id)
        .where(booking_students.c.booking_id == booking_id)
        .order_by(booking_students.c.student_id)
    )
    return list((await session.execute(stmt)).scalars())


async def students_of(
    session: AsyncSession, booking_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[str]]:
    """The students of each of ``booking_ids`` (one query for a page)."""
    found: dict[uuid.UUID, list[str]] = {booking_id: [] for booking_id in booking_ids}
    if not booking_ids:
        return found
    stmt = (
        select(booking_students.c.booking_id, booking_students.c.student_id)
        .where(booking_students.c.booking_id.in_(booking_ids))
        .order_by(booking_students.c.booking_id, booking_students.c.student_id)
    )
    for booking_id, student_id in await session.execute(stmt):
        found[booking_id].append(student_id)
    return found


async def student_count(session: AsyncSession, booking_id: uuid.UUID) -> int:
    """How many students the booking has."""
    stmt = select(func.count()).where(booking_students.c.booking_id == booking_id)
    return int((await session.execute(stmt)).scalar_one())


async def replace_students(
    session: AsyncSession, booking_id: uuid.UUID, ids: Sequence[str], *, now: datetime
) -> None:
    """Make ``ids`` the booking's students."""
    await session.execute(
        delete(booking_students).where(booking_students.c.booking_id == booking_id)
    )
    await add_students(session, booking_id, ids, now=now)


async def add_students(
    session: AsyncSession, booking_id: uuid.UUID, ids: Sequence[str], *, now: datetime
) -> None:
    """Attach ``ids`` to a booking (none attached yet)."""
    if ids:
        await session.execute(
            insert(booking_students),
            [{"booking_id": booking_id, "student_id": s, "added_at": now} for s in ids],
        )


async def page(
    session: AsyncSession,
    *,
    visible: ColumnElement[bool] | None,
    offer_id: uuid.UUID | None,
    status: str | None,
    after: uuid.UUID | None,
    limit: int,
) -> list[Booking]:
    """Up to ``limit`` bookings after ``after`` in id (= creation) order."""
    stmt = select(bookings).order_by(bookings.c.id).limit(limit)
    conditions = [
        c
        for c in (
            visible,
            bookings.c.offer_id == offer_id if offer_id else None,
            bookings.c.status == status if status else None,
            bookings.c.id > after if after else None,
        )
        if c is not None
    ]
    if conditions:
        stmt = stmt.where(and_(*conditions))
    return all_as(Booking, await session.execute(stmt))


def visible_to(
    *, university_id: uuid.UUID | None, provider_id: uuid.UUID | None
) -> ColumnElement[bool]:
    """Bookings of the university, or on offers of the provider."""
    clauses = []
    if university_id is not None:
        clauses.append(bookings.c.university_id == university_id)
    if provider_id is not None:
        clauses.append(bookings.c.provider_id == provider_id)
    return or_(*clauses) if clauses else bookings.c.id.is_(None)


# --- by date, and by agreement --------------------------------------------------------


async def starting_by(
    session: AsyncSession, today: date, statuses: Sequence[str]
) -> list[uuid.UUID]:
    """Bookings in ``statuses`` whose first day has come, earliest first."""
    stmt = (
        select(bookings.c.id)
        .where(bookings.c.status.in_(statuses), bookings.c.start_date <= today)
        .order_by(bookings.c.start_date, bookings.c.id)
    )
    return list((await session.execute(stmt)).scalars())


async def ended_before(
    session: AsyncSession, today: date, statuses: Sequence[str]
) -> list[uuid.UUID]:
    """Bookings in ``statuses`` whose last day has passed, earliest first."""
    stmt = (
        select(bookings.c.id)
        .where(bookings.c.status.in_(statuses), bookings.c.end_date < today)
        .order_by(bookings.c.end_date, bookings.c.id)
    )
    return list((await session.execute(stmt)).scalars())


async def unflagged_under(
    session: AsyncSession, agreement_ids: Sequence[uuid.UUID], statuses: Sequence[str]
) -> list[Booking]:
    """Bookings in ``statuses`` covered by one of ``agreement_ids`` and not yet flagged as
    outlasting their agreement."""
    if not agreement_ids:
        return []
    stmt = select(bookings).where(
        bookings.c.agreement_id.in_(agreement_ids),
        bookings.c.status.in_(statuses),
        bookings.c.agreement_ends_on.is_(None),
    )
    return all_as(Booking, await session.execute(stmt))


async def live_on_offer_for_update(
    session: AsyncSession, offer_id: uuid.UUID, statuses: Sequence[str]
) -> list[Booking]:
    """The offer's bookings in ``statuses``, locked (so none starts or is confirmed
    between a withdrawal's check and its cancellations)."""
    stmt = (
        select(bookings)
        .where(bookings.c.offer_id == offer_id, bookings.c.status.in_(statuses))
        .order_by(bookings.c.id)
        .with_for_update()
    )
    return all_as(Booking, await session.execute(stmt))
