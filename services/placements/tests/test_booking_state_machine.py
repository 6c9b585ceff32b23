"""A Hypothesis state machine of offers and bookings, on the service functions and a real
database (SQLite, and PostgreSQL when VFU_TEST_DATABASE_URL is set).

Universities request places (on auto-confirm offers too), providers confirm all or part,
decline, start and complete; either side cancels; providers change an offer's places,
close or withdraw it; the lifecycle scheduler ticks on the placement dates. A model
predicts every outcome. After every step:

* each offer's ``held_places`` is the sum of ``requested_places`` of its requested
  bookings, its ``confirmed_places`` the sum of ``confirmed_places`` of its confirmed, in
  progress and completed bookings, and their total never exceeds ``places``;
* the agreement's ceiling quota counts the places every booking takes, across offers,
  and never exceeds its amount (a request past it is refused with ``quota_exceeded``);
* every booking has the status the model predicts;
* every change of a booking was announced by exactly one event, in order, with the
  booking's version, and nothing else was announced.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import defaultdict
from collections.abc import Awaitable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any, ClassVar

import pytest
from hypothesis import HealthCheck
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    initialize,
    invariant,
    multiple,
    rule,
)
from placements.bookings import service as bookings
from placements.bookings.models import booking_students
from placements.bookings.models import bookings as bookings_table
from placements.bookings.scheduler import LifecycleScheduler
from placements.bookings.schemas import BookingConfirm, BookingCreate, BookingOut, BookingReason
from placements.offers import service as offers
from placements.offers.models import capacity_offers
from placements.offers.schemas import OfferUpdate
from placements.quotas.models import quota_use
from placements.subscriptions import FROM_AGREEMENTS as HANDLERS
from sqlalchemy import delete, select, update
from vfu_common.db import Database
from vfu_common.errors import ProblemError
from vfu_common.events.contracts import AGREEMENT_ACTIVATED, QuotaV1
from vfu_common.events.envelope import Envelope
from vfu_common.idempotency import idempotency_keys
from vfu_common.messaging.outbox import build_envelope
from vfu_common.messaging.tables import outbox
from vfu_common.principal import Principal
from vfu_testing.databases import database_for, migrate
from vfu_testing.stateful import run_state_machine

from services.placements.tests.booking_kit import END, START, insert_offer, insert_unit
from services.placements.tests.conftest import REGION_ID, UNIVERSITY_ID, agreement_terms

ALEMBIC_INI = Path(__file__).resolve().parents[1] / "alembic.ini"
UNIVERSITY = Principal(
    subject="uni", organisation_id=UNIVERSITY_ID, roles=frozenset({"university"})
)
PROVIDER = Principal(subject="region", organisation_id=REGION_ID, roles=frozenset({"provider"}))
HOLDING = ("requested",)
CONFIRMED = ("confirmed", "in_progress", "completed")
# Offers have up to 6 places and requests up to 4: the ceiling binds in many examples.
CEILING = QuotaV1(
    university_organisation_id=UNIVERSITY_ID,
    programme_code="sjukskoterskeprogrammet",
    term="2027-HT",
    unit="places",
    amount=3,
    kind="ceiling",
)


class World:
    """The event loop, database, unit and agreement shared by every example."""

    def __init__(self, url: str) -> None:
        self.loop = asyncio.new_event_loop()
        self.url = url
        self.run(migrate(ALEMBIC_INI, url))
        self.db = Database(url)
        self.unit = self.run(insert_unit(self.db))
        self.run(self._agreement())
        self.scheduler = LifecycleScheduler(self.db)

    def run(self, work: Awaitable[Any]) -> Any:
        return self.loop.run_until_complete(work)

    async def _agreement(self) -> None:
        terms = agreement_terms(quotas=[CEILING])
        payload = AGREEMENT_ACTIVATED.payload.model_validate(terms.model_dump())
        envelope = build_envelope(
            AGREEMENT_ACTIVATED,
            payload,
            source="/vfu/agreements",
            aggregate_id=terms.agreement_id,
            aggregate_version=1,
        )
        async with self.db.write() as session:
            await HANDLERS[AGREEMENT_ACTIVATED.event_type](session, envelope, payload)

    async def clear(self) -> None:
        async with self.db.write() as session:
            for table in (booking_students, bookings_table, capacity_offers, outbox):
                await session.execute(delete(table))
            await session.execute(delete(idempotency_keys))
            await session.execute(update(quota_use).values(used=0, excess=0))

    def close(self) -> None:
        self.run(self.db.dispose())
        self.loop.close()


@dataclass
class OfferModel:
    id: uuid.UUID
    places: int
    auto_confirm: bool
    status: str = "published"


@dataclass
class BookingModel:
    id: uuid.UUID
    offer: OfferModel
    requested: int
    confirmed: int = 0
    status: str = "requested"
    events: list[str] = field(default_factory=list)


class OffersAndBookings(RuleBasedStateMachine):
    world: ClassVar[World]
    offers_bundle = Bundle("offers")
    bookings_bundle = Bundle("bookings")

    def __init__(self) -> None:
        super().__init__()
        self.offers: list[OfferModel] = []
        self.bookings: dict[uuid.UUID, BookingModel] = {}

    # --- helpers ---------------------------------------------------------------------------

    def write(self, step: Any) -> tuple[Any, str | None]:
        """Run ``step(session)`` in a write transaction: (result, None) or (None, code)."""

        async def go() -> Any:
            async with self.world.db.write() as session:
                return await step(session)

        try:
            return self.world.run(go()), None
        except ProblemError as refusal:
            return None, refusal.code

    def taken(self, offer: OfferModel) -> tuple[int, int]:
        mine = [b for b in self.bookings.values() if b.offer is offer]
        held = sum(b.requested for b in mine if b.status in HOLDING)
        confirmed = sum(b.confirmed for b in mine if b.status in CONFIRMED)
        return held, confirmed

    def free(self, offer: OfferModel) -> int:
        return offer.places - sum(self.taken(offer))

    def quota_used(self) -> int:
        return sum(sum(self.taken(offer)) for offer in self.offers)

    # --- rules -----------------------------------------------------------------------------

    @initialize(target=offers_bundle, places=st.integers(1, 6), auto_confirm=st.booleans())
    def first_offer(self, places: int, auto_confirm: bool) -> OfferModel:
        return self._offer(places, auto_confirm)

    @rule(target=offers_bundle, places=st.integers(1, 6), auto_confirm=st.booleans())
    def another_offer(self, places: int, auto_confirm: bool) -> OfferModel:
        return self._offer(places, auto_confirm)

    def _offer(self, places: int, auto_confirm: bool) -> OfferModel:
        offer_id = self.world.run(
            insert_offer(self.world.db, self.world.unit, places=places, auto_confirm=auto_confirm)
        )
        offer = OfferModel(offer_id, places, auto_confirm)
        self.offers.append(offer)
        return offer

    @rule(target=bookings_bundle, offer=offers_bundle, places=st.integers(1, 4))
    def request(self, offer: OfferModel, places: int) -> Any:
        data = BookingCreate(
            offer_id=offer.id, places=places, course_code="3SJ201", course_instance="HT27"
        )
        result, code = self.write(
            lambda s: bookings.request_booking(
                s, data=data, principal=UNIVERSITY, idempotency_key=None
            )
        )
        if offer.status != "published":
            assert code == "offer_not_bookable"
            return multiple()
        if places > self.free(offer):
            assert code == "capacity_exceeded"
            return multiple()
        if self.quota_used() + places > CEILING.amount:
            assert code == "quota_exceeded"
            return multiple()
        assert code is None
        stored, replayed = result
        assert not replayed
        booking_id = BookingOut.model_validate_json(stored.body).id
        booking = BookingModel(booking_id, offer, places, events=["requested"])
        if offer.auto_confirm:
            booking.status, booking.confirmed = "confirmed", places
            booking.events.append("confirmed")
        self.bookings[booking_id] = booking
        return booking

    @rule(booking=bookings_bundle, places=st.integers(1, 4))
    def confirm(self, booking: BookingModel, places: int) -> None:
        _, code = self.write(
            lambda s: bookings.confirm(
                s, booking.id, data=BookingConfirm(places=places), principal=PROVIDER
            )
        )
        if booking.status != "requested":
            assert code == "invalid_booking_transition"
            return
        if places > booking.requested:
            assert code == "too_many_places"
            return
        assert code is None
        booking.status, booking.confirmed = "confirmed", places
        booking.events.append("confirmed")

    @rule(booking=bookings_bundle)
    def decline(self, booking: BookingModel) -> None:
        reason = BookingReason(reason="no_supervisor")
        _, code = self.write(
            lambda s: bookings.decline(s, booking.id, data=reason, principal=PROVIDER)
        )
        if booking.status != "requested":
            assert code == "invalid_booking_transition"
            return
        assert code is None
        booking.status = "declined"
        booking.events.append("declined")

    @rule(booking=bookings_bundle, by_provider=st.booleans())
    def cancel(self, booking: BookingModel, by_provider: bool) -> None:
        reason = BookingReason(reason="changed_plans")
        principal = PROVIDER if by_provider else UNIVERSITY
        _, code = self.write(
            lambda s: bookings.cancel(s, booking.id, data=reason, principal=principal)
        )
        if booking.status not in ("requested", "confirmed"):
            assert code == "invalid_booking_transition"
            return
        assert code is None
        booking.status = "cancelled"
        booking.events.append("cancelled")

    @rule(booking=bookings_bundle)
    def start(self, booking: BookingModel) -> None:
        _, code = self.write(lambda s: bookings.start(s, booking.id, principal=PROVIDER))
        if booking.status != "confirmed":
            assert code == "invalid_booking_transition"
            return
        assert code is None
        booking.status = "in_progress"
        booking.events.append("started")

    @rule(booking=bookings_bundle)
    def complete(self, booking: BookingModel) -> None:
        _, code = self.write(lambda s: bookings.complete(s, booking.id, principal=PROVIDER))
        if booking.status != "in_progress":
            assert code == "invalid_booking_transition"
            return
        assert code is None
        booking.status = "completed"
        booking.events.append("completed")

    @rule(offer=offers_bundle, places=st.integers(1, 8))
    def change_places(self, offer: OfferModel, places: int) -> None:
        update = OfferUpdate(places=places)
        _, code = self.write(
            lambda s: offers.update_offer(s, offer.id, data=update, principal=PROVIDER)
        )
        if offer.status not in ("draft", "published"):
            assert code == "offer_not_editable"
            return
        if places < sum(self.taken(offer)):
            assert code == "places_below_booked"
            return
        assert code is None
        offer.places = places

    @rule(offer=offers_bundle)
    def close(self, offer: OfferModel) -> None:
        _, code = self.write(lambda s: offers.close(s, offer.id, principal=PROVIDER))
        if offer.status != "published":
            assert code is not None
            return
        assert code is None
        offer.status = "closed"

    @rule(offer=consumes(offers_bundle))
    def withdraw(self, offer: OfferModel) -> None:
        _, code = self.write(
            lambda s: offers.withdraw(s, offer.id, reason=None, principal=PROVIDER)
        )
        mine = [b for b in self.bookings.values() if b.offer is offer]
        if offer.status == "withdrawn":
            assert code is not None
            return
        if any(b.status == "in_progress" for b in mine):
            assert code == "placements_in_progress"
            return
        assert code is None
        offer.status = "withdrawn"
        for booking in mine:
            if booking.status in ("requested", "confirmed"):
                booking.status = "cancelled"
                booking.events.append("cancelled")

    @rule(moment=st.sampled_from(["start", "end"]))
    def tick(self, moment: str) -> None:
        """The lifecycle scheduler on the first day, or the day after the last."""
        day = START if moment == "start" else END + timedelta(days=1)
        self.world.run(self.world.scheduler.tick(day))
        for booking in self.bookings.values():
            if booking.status == "confirmed":
                booking.status = "in_progress"
                booking.events.append("started")
            if moment == "end" and booking.status == "in_progress":
                booking.status = "completed"
                booking.events.append("completed")

    # --- invariants ------------------------------------------------------------------------

    @invariant()
    def counts_and_events_agree(self) -> None:
        offers_rows, booking_rows, envelopes, quota_used = self.world.run(self._state())
        assert quota_used == self.quota_used() <= CEILING.amount
        for offer in self.offers:
            row = offers_rows[offer.id]
            held, confirmed = self.taken(offer)
            stored = [b for b in booking_rows.values() if b["offer_id"] == offer.id]
            assert row["held_places"] == sum(
                b["requested_places"] for b in stored if b["status"] in HOLDING
            )
            assert row["confirmed_places"] == sum(
                b["confirmed_places"] for b in stored if b["status"] in CONFIRMED
            )
            assert (row["held_places"], row["confirmed_places"]) == (held, confirmed)
            assert row["held_places"] + row["confirmed_places"] <= row["places"]
            assert (row["places"], row["status"]) == (offer.places, offer.status)
        announced: dict[str, list[Envelope]] = defaultdict(list)
        for envelope in envelopes:
            if envelope.aggregatetype == "booking":
                announced[envelope.aggregateid].append(envelope)
        assert set(announced) == {str(b) for b in self.bookings}
        for booking in self.bookings.values():
            row = booking_rows[booking.id]
            assert row["status"] == booking.status
            mine = announced[str(booking.id)]
            assert [e.type.split(".")[3] for e in mine] == booking.events
            versions = [e.aggregateversion for e in mine]
            assert versions == sorted(set(versions))
            assert versions[-1] == row["version"]
            assert mine[-1].data["status"] == row["status"]

    async def _state(self) -> tuple[dict[Any, Any], dict[Any, Any], list[Envelope], int]:
        async with self.world.db.read() as session:
            offer_rows = {
                r["id"]: r for r in (await session.execute(select(capacity_offers))).mappings()
            }
            booking_rows = {
                r["id"]: r for r in (await session.execute(select(bookings_table))).mappings()
            }
            payloads = (
                await session.execute(select(outbox.c.payload).order_by(outbox.c.seq))
            ).scalars()
            envelopes = [Envelope.from_bytes(p) for p in payloads]
            used = (await session.execute(select(quota_use.c.used))).scalar_one()
        return offer_rows, booking_rows, envelopes, used

    def teardown(self) -> None:
        self.world.run(self.world.clear())


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def test_offers_and_bookings_state_machine(tmp_path: Path, backend: str) -> None:
    with database_for(backend, tmp_path) as url:
        run_state_machine(
            OffersAndBookings,
            World(url),
            max_examples=30,
            steps=20,
            also_suppress=[HealthCheck.filter_too_much],
        )
