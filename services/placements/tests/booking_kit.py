"""Shared pieces of the booking tests: units and offers written with Core inserts, reads
of counters, bookings and outbox events straight from the database.

Offers are inserted directly (not through the offers API) so the booking tests pin the
bookings feature alone.
"""

from __future__ import annotations

import uuid
from collections import Counter
from typing import Any

import httpx
from placements.bookings.models import booking_students, bookings
from placements.offers.models import capacity_offers
from placements.units.models import care_units
from sqlalchemy import func, insert, select
from vfu_common.db import Database
from vfu_common.events.envelope import Envelope
from vfu_common.messaging.tables import outbox
from vfu_testing.placements_rows import END as END  # re-exported: the kit offers' dates
from vfu_testing.placements_rows import START as START
from vfu_testing.placements_rows import offer_row, unit_row

from services.placements.tests.conftest import REGION_ID, Actor, RunningService

BOOKINGS = "/bookings"


async def insert_unit(
    db: Database, *, provider_id: uuid.UUID = REGION_ID, municipality_code: str = "0380"
) -> dict[str, Any]:
    """A care unit of ``provider_id``; location derived from the municipality."""
    row = unit_row(provider_id, municipality_code=municipality_code, name="Avdelning 7")
    async with db.write() as session:
        await session.execute(insert(care_units).values(**row))
    return row


async def insert_offer(db: Database, unit: dict[str, Any], **overrides: Any) -> uuid.UUID:
    """A published offer for everyone on ``unit``: nursing, 2027-HT, 10 places."""
    row = offer_row(unit, **overrides)
    async with db.write() as session:
        await session.execute(insert(capacity_offers).values(**row))
    return uuid.UUID(str(row["id"]))


async def offer_counts(db: Database, offer_id: uuid.UUID) -> tuple[int, int, int]:
    """(places, held, confirmed) of an offer."""
    async with db.read() as session:
        row = (
            await session.execute(
                select(
                    capacity_offers.c.places,
                    capacity_offers.c.held_places,
                    capacity_offers.c.confirmed_places,
                ).where(capacity_offers.c.id == offer_id)
            )
        ).one()
    return int(row[0]), int(row[1]), int(row[2])


async def count_rows(db: Database) -> dict[str, int]:
    """How many bookings, students, outbox rows there are (nothing half-written)."""
    async with db.read() as session:
        counts = {}
        for name, table in (
            ("bookings", bookings),
            ("students", booking_students),
            ("outbox", outbox),
        ):
            counts[name] = int(await session.scalar(select(func.count()).select_from(table)) or 0)
    return counts


async def booking_row(db: Database, booking_id: uuid.UUID | str) -> dict[str, Any]:
    """The stored booking."""
    async with db.read() as session:
        row = (
            (
                await session.execute(
                    select(bookings).where(bookings.c.id == uuid.UUID(str(booking_id)))
                )
            )
            .mappings()
            .one()
        )
    return dict(row)


async def events(db: Database, *, type_suffix: str | None = None) -> list[Envelope]:
    """Every event in the outbox, in order (optionally of types ending in ``type_suffix``)."""
    async with db.read() as session:
        rows = (await session.execute(select(outbox.c.payload).order_by(outbox.c.seq))).scalars()
        found = [Envelope.from_bytes(payload) for payload in rows]
    if type_suffix is None:
        return found
    return [e for e in found if e.type.endswith(type_suffix)]


async def event_counts(db: Database) -> Counter[tuple[str, str]]:
    """(short event type, booking id) -> how many times it is in the outbox."""
    found = await events(db)
    return Counter(
        (e.type.split(".")[3], e.aggregateid) for e in found if e.aggregatetype == "booking"
    )


async def book(
    service: RunningService,
    actor: Actor,
    offer_id: uuid.UUID,
    *,
    places: int = 1,
    key: str | None = None,
    **fields: Any,
) -> httpx.Response:
    """POST a booking request as ``actor``."""
    body = {
        "offer_id": str(offer_id),
        "places": places,
        "course_code": "3SJ201",
        "course_instance": "HT27-1",
        **fields,
    }
    headers = {"Idempotency-Key": key} if key else {}
    return await service.call(actor, "POST", BOOKINGS, json=body, headers=headers)


def problem_code(response: httpx.Response) -> str:
    """The ``code`` of a problem response (fails on anything else)."""
    assert response.headers["content-type"].startswith("application/problem+json"), response.text
    return str(response.json()["code"])
