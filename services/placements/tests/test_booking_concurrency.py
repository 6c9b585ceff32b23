"""Never overbook under real concurrency, on SQLite and PostgreSQL.

200 HTTP clients, each on its own connection, request one place each on a 10-place offer
at the same moment: exactly 10 get it and 190 are refused with ``capacity_exceeded``;
the offer's counters, the booking rows and the events all say 10. A second test races
the provider's confirmation against the university's cancellation of one booking: the
outcome must be one that some serial order of the same requests gives under the booking
state machine (cancel first; or confirm, then a cancel of the confirmed booking), and the
counters and events must match it.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter

import httpx
import pytest
from placements.bookings.models import bookings
from placements.bookings.transitions import CANCEL, CONFIRM, Transition, places_taken
from sqlalchemy import func, select
from vfu_common.db import Database

from services.placements.tests.booking_kit import (
    BOOKINGS,
    book,
    count_rows,
    events,
    insert_offer,
    insert_unit,
    offer_counts,
)
from services.placements.tests.conftest import (
    API,
    PROVIDER,
    UNIVERSITY,
    RunningService,
    agreement_terms,
    project_agreement,
)

# Concurrency and fault tests: `make stress` runs them 20 times in a row.
pytestmark = pytest.mark.stress

CLIENTS = 200
PLACES = 10


async def booking_statuses(db: Database, offer_id: uuid.UUID) -> Counter[str]:
    async with db.read() as session:
        rows = await session.execute(
            select(bookings.c.status, func.count())
            .where(bookings.c.offer_id == offer_id)
            .group_by(bookings.c.status)
        )
        return Counter({status: int(n) for status, n in rows})


async def one_request(
    url: str, offer_id: uuid.UUID, n: int, start: asyncio.Event
) -> httpx.Response:
    """One booking request from its own client (own connection), released by ``start``."""
    body = {
        "offer_id": str(offer_id),
        "places": 1,
        "course_code": "3SJ201",
        "course_instance": f"HT27-{n}",
    }
    headers = UNIVERSITY.headers() | {"Idempotency-Key": f"race-{n}"}
    async with httpx.AsyncClient(base_url=url, timeout=httpx.Timeout(120.0)) as client:
        await start.wait()
        return await client.post(API + BOOKINGS, json=body, headers=headers)


@pytest.mark.parametrize("auto_confirm", [False, True])
async def test_200_concurrent_bookers_on_10_places(
    placements_service: RunningService, auto_confirm: bool
) -> None:
    db = placements_service.db
    await project_agreement(db, agreement_terms())
    offer_id = await insert_offer(
        db, await insert_unit(db), places=PLACES, auto_confirm=auto_confirm
    )
    start = asyncio.Event()
    tasks = [
        asyncio.create_task(one_request(placements_service.url, offer_id, n, start))
        for n in range(CLIENTS)
    ]
    await asyncio.sleep(0.2)  # every client is waiting at the line
    start.set()
    responses = await asyncio.gather(*tasks)

    outcomes = Counter(
        (r.status_code, r.json().get("code") if r.status_code != 201 else "booked")
        for r in responses
    )
    assert outcomes == {(201, "booked"): PLACES, (409, "capacity_exceeded"): CLIENTS - PLACES}
    status = "confirmed" if auto_confirm else "requested"
    assert await booking_statuses(db, offer_id) == {status: PLACES}
    held, confirmed = (0, PLACES) if auto_confirm else (PLACES, 0)
    assert await offer_counts(db, offer_id) == (PLACES, held, confirmed)
    assert (await count_rows(db))["bookings"] == PLACES
    assert len(await events(db, type_suffix="booking.requested.v1")) == PLACES
    assert len(await events(db, type_suffix="booking.confirmed.v1")) == (
        PLACES if auto_confirm else 0
    )
    booked = {r.json()["id"] for r in responses if r.status_code == 201}
    assert len(booked) == PLACES


def serial_outcomes(requests: Counter[str]) -> set[tuple[str, ...]]:
    """Every sequence of winning actions some serial order of ``requests`` gives.

    ``requests`` counts the concurrent requests per action (confirm, cancel) on one
    requested booking. Each request, run alone, succeeds if the booking's status is one
    of its transition's sources and is refused otherwise. Serializable execution may give
    any of these outcomes and nothing else.
    """
    moves: dict[str, Transition] = {CONFIRM.action: CONFIRM, CANCEL.action: CANCEL}
    outcomes: set[tuple[str, ...]] = set()

    def explore(status: str, left: Counter[str], won: tuple[str, ...]) -> None:
        if not +left:
            outcomes.add(won)
            return
        for action in +left:
            rest = left - Counter({action: 1})
            move = moves[action]
            if status in move.sources:
                explore(move.target, rest, (*won, action))
            else:
                explore(status, rest, won)

    explore("requested", requests, ())
    return outcomes


def test_the_serial_outcomes_of_a_confirm_and_cancel_race() -> None:
    # Cancelling first wins alone; confirming first lets one cancellation win after it.
    assert serial_outcomes(Counter(confirm=2, cancel=2)) == {
        ("cancel",),
        ("confirm", "cancel"),
    }
    assert serial_outcomes(Counter(confirm=3)) == {("confirm",)}


async def test_confirm_and_cancel_race_for_one_booking(
    placements_service: RunningService,
) -> None:
    db = placements_service.db
    await project_agreement(db, agreement_terms())
    offer_id = await insert_offer(db, await insert_unit(db), places=PLACES)
    response = await book(placements_service, UNIVERSITY, offer_id, places=3)
    booking_id = response.json()["id"]
    path = f"{API}{BOOKINGS}/{booking_id}"
    start = asyncio.Event()

    async def attempt(action: str) -> tuple[str, httpx.Response]:
        async with httpx.AsyncClient(base_url=placements_service.url, timeout=60.0) as client:
            await start.wait()
            if action == CONFIRM.action:
                sent = client.post(
                    f"{path}/confirm", json={"places": 2}, headers=PROVIDER.headers()
                )
            else:
                sent = client.post(
                    f"{path}/cancel", json={"reason": "changed_plans"}, headers=UNIVERSITY.headers()
                )
            return action, await sent

    requests = Counter({CONFIRM.action: 10, CANCEL.action: 10})
    tasks = [asyncio.create_task(attempt(a)) for a in requests.elements()]
    await asyncio.sleep(0)
    start.set()
    results = await asyncio.gather(*tasks)

    winners = sorted(
        ((action, r.json()["version"]) for action, r in results if r.status_code == 200),
        key=lambda won: won[1],
    )
    won = tuple(action for action, _ in winners)
    assert won in serial_outcomes(requests), won
    assert all(
        r.json()["code"] == "invalid_booking_transition" for _, r in results if r.status_code != 200
    )
    final = {CONFIRM.action: CONFIRM, CANCEL.action: CANCEL}[won[-1]].target
    held, confirmed = places_taken(final, requested=3, confirmed=2)
    assert await offer_counts(db, offer_id) == (PLACES, held, confirmed)
    changes = [e for e in await events(db) if e.aggregateid == booking_id]
    assert [e.aggregateversion for e in changes] == list(range(1, len(won) + 2))


async def test_concurrent_retries_with_one_idempotency_key_book_once(
    placements_service: RunningService,
) -> None:
    db = placements_service.db
    await project_agreement(db, agreement_terms())
    offer_id = await insert_offer(db, await insert_unit(db), places=PLACES)
    body = {"offer_id": str(offer_id), "places": 2, "course_code": "3SJ201", "course_instance": "X"}

    async def attempt() -> httpx.Response:
        async with httpx.AsyncClient(base_url=placements_service.url, timeout=60.0) as client:
            headers = UNIVERSITY.headers() | {"Idempotency-Key": "same-key"}
            return await client.post(API + BOOKINGS, json=body, headers=headers)

    responses = await asyncio.gather(*(attempt() for _ in range(20)))
    created = [r for r in responses if r.status_code == 201]
    # Whoever came second either waited and got the replay, or was told to retry (409).
    assert {r.json()["code"] for r in responses if r.status_code != 201} <= {
        "idempotency_key_in_use"
    }
    assert len({r.json()["id"] for r in created}) == 1
    assert sum("Idempotent-Replayed" not in r.headers for r in created) == 1
    assert await offer_counts(db, offer_id) == (PLACES, 2, 0)
    assert (await count_rows(db))["bookings"] == 1
