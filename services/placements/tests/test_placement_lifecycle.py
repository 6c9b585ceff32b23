"""Placements start and complete by their dates, once, whatever runs the scheduler.

Bookings are made and confirmed through HTTP; the lifecycle scheduler then ticks on
pinned days. Two schedulers on two database connection pools (two replicas) ticking at the
same time still start and complete each placement, and emit its event, exactly once.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections import Counter
from datetime import date, timedelta

import pytest
from placements.bookings.events import iso_weeks_spanned
from placements.bookings.scheduler import LEASE_NAME, LifecycleScheduler
from placements.calendar import CALENDAR
from sqlalchemy import select
from vfu_common.db import Database
from vfu_common.messaging.lease import Lease
from vfu_common.messaging.tables import leases

from services.placements.tests.booking_kit import (
    BOOKINGS,
    END,
    START,
    book,
    booking_row,
    event_counts,
    events,
    insert_offer,
    insert_unit,
)
from services.placements.tests.conftest import (
    PROVIDER,
    UNIVERSITY,
    RunningService,
    agreement_terms,
    project_agreement,
)


@pytest.mark.parametrize(
    ("start", "end", "weeks"),
    [
        (date(2027, 9, 6), date(2027, 9, 10), 1),  # Monday to Friday
        (date(2027, 9, 5), date(2027, 9, 6), 2),  # Sunday to Monday
        (START, END, 8),
        (date(2027, 12, 27), date(2028, 1, 2), 1),  # ISO week 52 across the new year
        (date(2027, 12, 31), date(2028, 1, 3), 2),
    ],
)
def test_iso_weeks_spanned(start: date, end: date, weeks: int) -> None:
    assert iso_weeks_spanned(start, end) == weeks


async def confirmed_booking(
    service: RunningService, offer_id: uuid.UUID, *, places: int, students: list[str]
) -> str:
    response = await book(service, UNIVERSITY, offer_id, places=places, student_ids=students)
    assert response.status_code == 201, response.text
    booking_id = str(response.json()["id"])
    confirmed = await service.call(PROVIDER, "POST", f"{BOOKINGS}/{booking_id}/confirm")
    assert confirmed.status_code == 200, confirmed.text
    return booking_id


@pytest.fixture
async def offer_id(placements_service: RunningService) -> uuid.UUID:
    db = placements_service.db
    await project_agreement(db, agreement_terms())
    return await insert_offer(db, await insert_unit(db))


async def test_placements_start_and_complete_by_date(
    placements_service: RunningService, offer_id: uuid.UUID
) -> None:
    db = placements_service.db
    named = await confirmed_booking(placements_service, offer_id, places=3, students=["a", "b"])
    unnamed = await confirmed_booking(placements_service, offer_id, places=2, students=[])
    requested = (await book(placements_service, UNIVERSITY, offer_id)).json()["id"]
    scheduler = LifecycleScheduler(db)

    await scheduler.tick(START - timedelta(days=1))
    assert {(await booking_row(db, b))["status"] for b in (named, unnamed)} == {"confirmed"}

    await scheduler.tick(START)
    for booking_id in (named, unnamed):
        assert (await booking_row(db, booking_id))["status"] == "in_progress"
    assert (await booking_row(db, requested))["status"] == "requested"  # never answered

    await scheduler.tick(END)  # the last day is still a placement day
    assert (await booking_row(db, named))["status"] == "in_progress"

    await scheduler.tick(END + timedelta(days=1))
    for booking_id in (named, unnamed):
        assert (await booking_row(db, booking_id))["status"] == "completed"
    completed = {
        e.aggregateid: e.data for e in await events(db, type_suffix="placement.completed.v1")
    }
    # Two named students x 8 weeks; no names: the 2 confirmed places x 8 weeks.
    assert completed[named]["student_weeks"] == 16
    assert completed[unnamed]["student_weeks"] == 16 // 2 * 2
    assert completed[named]["student_count"] == 2
    counts = await event_counts(db)
    for booking_id in (named, unnamed):
        assert (counts[("started", booking_id)], counts[("completed", booking_id)]) == (1, 1)
    assert counts[("started", requested)] == 0
    response = await placements_service.call(UNIVERSITY, "GET", f"{BOOKINGS}/{named}")
    assert response.json()["status"] == "completed"


async def test_a_period_passed_while_down_starts_and_completes_in_one_tick(
    placements_service: RunningService, offer_id: uuid.UUID
) -> None:
    db = placements_service.db
    booking_id = await confirmed_booking(placements_service, offer_id, places=1, students=[])
    CALENDAR.set(END + timedelta(days=30))
    try:
        report = await LifecycleScheduler(db).tick()  # reads the pinned clock
    finally:
        CALENDAR.set(None)
    assert uuid.UUID(booking_id) in report.started
    assert uuid.UUID(booking_id) in report.completed
    mine = [e for e in await events(db) if e.aggregateid == booking_id]
    assert [".".join(e.type.split(".")[2:4]) for e in mine] == [
        "booking.requested",
        "booking.confirmed",
        "placement.started",
        "placement.completed",
    ]
    assert [e.aggregateversion for e in mine] == [1, 2, 3, 4]


@pytest.mark.stress
async def test_two_replicas_ticking_at_once_move_each_placement_once(
    placements_service: RunningService, offer_id: uuid.UUID, database_url: str
) -> None:
    db = placements_service.db
    bookings = [
        await confirmed_booking(placements_service, offer_id, places=1, students=[])
        for _ in range(8)
    ]
    # Two replicas: each its own connection pool and scheduler (ticking without the lease,
    # as two holders would during a hand-over).
    replicas = [Database(database_url), Database(database_url)]
    try:
        schedulers = [LifecycleScheduler(replica) for replica in replicas]
        for day in (START, END + timedelta(days=1)):
            reports = await asyncio.gather(*(s.tick(day) for s in schedulers))
            moved = [b for r in reports for b in (r.started if day == START else r.completed)]
            assert sorted(moved) == sorted(uuid.UUID(b) for b in bookings)
    finally:
        for replica in replicas:
            await replica.dispose()
    started = Counter(e.aggregateid for e in await events(db, type_suffix="placement.started.v1"))
    done = Counter(e.aggregateid for e in await events(db, type_suffix="placement.completed.v1"))
    assert started == dict.fromkeys(bookings, 1)
    assert done == dict.fromkeys(bookings, 1)


async def test_the_service_runs_the_lifecycle_in_the_background(
    placements_service: RunningService,
) -> None:
    """The app's own scheduler started with it and holds the lease."""
    db = placements_service.db
    for _ in range(100):
        async with db.read() as session:
            holder = await session.scalar(
                select(leases.c.holder).where(leases.c.name == LEASE_NAME)
            )
        if holder:
            break
        await asyncio.sleep(0.05)
    assert holder
    assert not await Lease(db, LEASE_NAME).acquire()


@pytest.mark.stress
async def test_the_running_loop_ticks_while_holding_the_lease(
    placements_service: RunningService, offer_id: uuid.UUID
) -> None:
    db = placements_service.db
    booking_id = await confirmed_booking(placements_service, offer_id, places=1, students=[])
    # Two replicas' schedulers on a lease of this test's own (the service's scheduler
    # holds the real one): only the holder ticks.
    name = "placements-lifecycle-test"
    holder, waiting = (
        LifecycleScheduler(db, interval_seconds=0.05, today=lambda: START, lease=Lease(db, name))
        for _ in range(2)
    )
    assert await holder.lease.acquire()
    tasks = [asyncio.create_task(s.run()) for s in (holder, waiting)]
    try:
        for _ in range(200):
            if (await booking_row(db, booking_id))["status"] == "in_progress":
                break
            await asyncio.sleep(0.05)
        assert (await booking_row(db, booking_id))["status"] == "in_progress"
        assert not await waiting.lease.acquire()
    finally:
        for task in tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
    started = await events(db, type_suffix="placement.started.v1")
    assert [e.aggregateid for e in started] == [booking_id]
