"""A Hypothesis state machine of the offer lifecycle, on the service functions (SQLite).

Offers are created, published, closed, withdrawn and resized while bookings come and go
(written straight into the bookings table, as the bookings feature would). After every
step the stored offers, bookings and outbox agree with a simple model: statuses move only
along draft → published → closed | withdrawn, refused steps change nothing, the counters
are the sums of the bookings and never exceed the places, a withdrawal leaves no open
booking, and every change of a published offer is announced once with the offer's version.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, ClassVar

from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
)
from placements.bookings.models import booking_students, bookings
from placements.offers import service
from placements.offers.models import capacity_offers
from placements.offers.schemas import OfferCreate, OfferUpdate
from placements.units.schemas import UnitCreate
from placements.units.service import create_unit
from sqlalchemy import delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from vfu_common.db import Database
from vfu_common.errors import ProblemError
from vfu_common.events.envelope import Envelope
from vfu_common.messaging.tables import outbox
from vfu_common.principal import Principal
from vfu_common.utc import utcnow
from vfu_common.uuid7 import new_id
from vfu_testing.databases import migrate, sqlite_url
from vfu_testing.stateful import run_state_machine

ALEMBIC_INI = Path(__file__).resolve().parents[1] / "alembic.ini"
PROVIDER = Principal(
    subject="provider", organisation_id=uuid.uuid4(), roles=frozenset({"provider"})
)
UNIVERSITY_ID = uuid.uuid4()
NEXT = {"publish": "draft", "close": "published"}
OPEN = ("requested", "confirmed")


class World:
    """The event loop, database and unit shared by every example."""

    def __init__(self, tmp_path: Path) -> None:
        self.loop = asyncio.new_event_loop()
        url = sqlite_url(tmp_path)
        self.loop.run_until_complete(migrate(ALEMBIC_INI, url))
        self.db = Database(url)
        self.unit_id: uuid.UUID = self.run(self._unit())

    def run(self, work: Awaitable[Any]) -> Any:
        return self.loop.run_until_complete(work)

    async def _unit(self) -> uuid.UUID:
        data = UnitCreate(name="Avd 1", municipality_code="0380", care_setting="psykiatri")
        async with self.db.write() as session:
            unit = await create_unit(session, data=data, principal=PROVIDER)
        return unit.id

    async def clear(self) -> None:
        async with self.db.write() as session:
            for table in (booking_students, bookings, capacity_offers, outbox):
                await session.execute(delete(table))

    def close(self) -> None:
        self.run(self.db.dispose())
        self.loop.close()


@dataclass
class Booking:
    status: str
    places: int


@dataclass
class Offer:
    """What the model expects of one offer."""

    status: str
    places: int
    version: int = 1
    events: list[tuple[str, int]] = field(default_factory=list)
    bookings: dict[uuid.UUID, Booking] = field(default_factory=dict)

    def taken(self, *statuses: str) -> int:
        return sum(b.places for b in self.bookings.values() if b.status in statuses)

    @property
    def booked(self) -> int:
        return self.taken("requested", "confirmed", "in_progress")

    def announce(self, event: str) -> None:
        self.version += 1
        self.events.append((event, self.version))


class OfferLifecycle(RuleBasedStateMachine):
    world: ClassVar[World]
    offers = Bundle("offers")

    def __init__(self) -> None:
        super().__init__()
        self.model: dict[uuid.UUID, Offer] = {}

    @initialize()
    def empty(self) -> None:
        self.world.run(self.world.clear())

    async def _call(self, work: Callable[[AsyncSession], Awaitable[Any]]) -> str | None:
        try:
            async with self.world.db.write() as session:
                await work(session)
        except ProblemError as exc:
            return exc.code
        return None

    def call(self, work: Callable[[AsyncSession], Awaitable[Any]]) -> str | None:
        """Run a service call in a write transaction; the refusal code, if any."""
        result: str | None = self.world.run(self._call(work))
        return result

    @rule(target=offers, places=st.integers(1, 8), publish=st.booleans())
    def create(self, places: int, publish: bool) -> uuid.UUID:
        data = OfferCreate(
            unit_id=self.world.unit_id,
            profession_code="sjukskoterska",
            level="grundniva",
            term="2027-HT",
            start_date=date(2027, 9, 6),
            end_date=date(2027, 10, 15),
            supervision_model="one_to_one",
            places=places,
            publish=publish,
        )
        created: list[uuid.UUID] = []

        async def work(session: AsyncSession) -> None:
            row = await service.create_offer(session, data=data, principal=PROVIDER)
            created.append(row.id)

        assert self.call(work) is None
        offer = Offer(status="published" if publish else "draft", places=places)
        if publish:
            offer.events.append(("published", 1))
        self.model[created[0]] = offer
        return created[0]

    @rule(offer_id=offers, action=st.sampled_from(["publish", "close"]))
    def move(self, offer_id: uuid.UUID, action: str) -> None:
        offer = self.model[offer_id]
        function = getattr(service, action)
        refused = self.call(lambda s: function(s, offer_id, principal=PROVIDER))
        if offer.status != NEXT[action]:
            assert refused == "invalid_offer_transition"
            return
        assert refused is None
        offer.status = "published" if action == "publish" else "closed"
        offer.announce(offer.status)

    @rule(offer_id=offers)
    def withdraw(self, offer_id: uuid.UUID) -> None:
        offer = self.model[offer_id]
        refused = self.call(
            lambda s: service.withdraw(s, offer_id, reason=None, principal=PROVIDER)
        )
        if offer.status == "withdrawn":
            assert refused == "invalid_offer_transition"
        elif offer.taken("in_progress"):
            assert refused == "placements_in_progress"
        else:
            assert refused is None
            for booking in offer.bookings.values():
                if booking.status in OPEN:
                    booking.status = "cancelled"
            offer.status = "withdrawn"
            offer.announce("withdrawn")

    @rule(offer_id=offers, places=st.integers(1, 10))
    def resize(self, offer_id: uuid.UUID, places: int) -> None:
        offer = self.model[offer_id]
        data = OfferUpdate(places=places)
        refused = self.call(
            lambda s: service.update_offer(s, offer_id, data=data, principal=PROVIDER)
        )
        if offer.status in ("closed", "withdrawn"):
            assert refused == "offer_not_editable"
        elif places == offer.places:
            assert refused is None  # nothing to change: no new version, no event
        elif places < offer.booked:
            assert refused == "places_below_booked"
        else:
            assert refused is None
            offer.places = places
            if offer.status == "published":
                offer.announce("updated")
            else:
                offer.version += 1

    @rule(
        offer_id=offers,
        places=st.integers(1, 3),
        status=st.sampled_from(["requested", "confirmed", "in_progress"]),
    )
    def book(self, offer_id: uuid.UUID, places: int, status: str) -> None:
        """A booking as the bookings feature would make it, if the offer has room."""
        offer = self.model[offer_id]
        if offer.status != "published" or offer.booked + places > offer.places:
            return
        booking_id = self.world.run(self._insert_booking(offer_id, places, status))
        offer.bookings[booking_id] = Booking(status, places)

    async def _insert_booking(self, offer_id: uuid.UUID, places: int, status: str) -> uuid.UUID:
        booking_id, now = new_id(), utcnow()
        counter = "held_places" if status == "requested" else "confirmed_places"
        async with self.world.db.write() as session:
            await session.execute(
                insert(bookings).values(
                    id=booking_id,
                    offer_id=offer_id,
                    unit_id=self.world.unit_id,
                    provider_id=PROVIDER.organisation_id,
                    university_id=UNIVERSITY_ID,
                    profession_code="sjukskoterska",
                    course_code="VFU1",
                    course_instance="1",
                    term="2027-HT",
                    start_date=date(2027, 9, 6),
                    end_date=date(2027, 10, 15),
                    supervision_model="one_to_one",
                    requested_places=places,
                    confirmed_places=0 if status == "requested" else places,
                    status=status,
                    created_by="test",
                    version=1,
                    created_at=now,
                    updated_at=now,
                )
            )
            await session.execute(
                update(capacity_offers)
                .where(capacity_offers.c.id == offer_id)
                .values({counter: capacity_offers.c[counter] + places})
            )
        return booking_id

    async def _state(self) -> tuple[dict[uuid.UUID, Any], dict[uuid.UUID, Any], list[Envelope]]:
        async with self.world.db.read() as session:
            offers = {
                r["id"]: r for r in (await session.execute(select(capacity_offers))).mappings()
            }
            booked = {r["id"]: r for r in (await session.execute(select(bookings))).mappings()}
            payloads = await session.execute(select(outbox.c.payload).order_by(outbox.c.seq))
            return offers, booked, [Envelope.from_bytes(p) for p in payloads.scalars()]

    @invariant()
    def database_agrees_with_the_model(self) -> None:
        offers, booked, emitted = self.world.run(self._state())
        assert set(offers) == set(self.model)
        for offer_id, expected in self.model.items():
            row = offers[offer_id]
            assert (row["status"], row["places"]) == (expected.status, expected.places)
            assert row["version"] == expected.version
            assert row["held_places"] == expected.taken("requested")
            assert row["confirmed_places"] == expected.taken("confirmed", "in_progress")
            assert row["held_places"] + row["confirmed_places"] <= row["places"]
            for booking_id, booking in expected.bookings.items():
                assert booked[booking_id]["status"] == booking.status
                if booking.status == "cancelled":
                    assert booked[booking_id]["reason"] == "offer_withdrawn"
            offer_events = [
                (e.type.split(".")[3], e.aggregateversion)
                for e in emitted
                if e.aggregatetype == "offer" and e.aggregateid == str(offer_id)
            ]
            assert offer_events == expected.events
        cancelled = sum(
            b.status == "cancelled" for o in self.model.values() for b in o.bookings.values()
        )
        assert sum(e.aggregatetype == "booking" for e in emitted) == cancelled


def test_offer_lifecycle_state_machine(tmp_path: Path) -> None:
    run_state_machine(OfferLifecycle, World(tmp_path), max_examples=40, steps=30)
