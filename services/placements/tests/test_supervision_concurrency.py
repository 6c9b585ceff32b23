"""The supervisor gate under real concurrency, on SQLite and PostgreSQL.

50 HTTP clients, each on its own connection, assign ONE peer_2_to_1 supervisor to 50
different confirmed bookings whose dates overlap, one student each, at the same moment:
exactly two are accepted, 48 are refused with ``supervisor_over_capacity``, and the
database holds exactly two active assignments and two ``supervision.assigned`` events.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter

import httpx
import pytest

from services.placements.tests.booking_kit import book, insert_offer, insert_unit
from services.placements.tests.conftest import (
    API,
    PROVIDER,
    UNIVERSITY,
    RunningService,
    agreement_terms,
    project_agreement,
)
from services.placements.tests.supervision_kit import (
    ASSIGNED,
    assignment_rows,
    project_supervisor,
    supervision_events,
    supervisor,
    supervisors_path,
)

# Concurrency and fault tests: `make stress` runs them 20 times in a row.
pytestmark = pytest.mark.stress

CLIENTS = 50
PEER_CAPACITY = 2


async def peer_bookings(service: RunningService, count: int) -> list[str]:
    """``count`` auto-confirmed one-place bookings on a peer_2_to_1 offer (one period)."""
    db = service.db
    offer_id = await insert_offer(
        db, await insert_unit(db), supervision_model="peer_2_to_1", auto_confirm=True, places=count
    )
    booked = []
    for n in range(count):
        response = await book(service, UNIVERSITY, offer_id, course_instance=f"HT27-{n}")
        assert response.status_code == 201, response.text
        assert response.json()["status"] == "confirmed"
        booked.append(str(response.json()["id"]))
    return booked


async def one_assignment(
    url: str, booking_id: str, supervisor_id: uuid.UUID, start: asyncio.Event
) -> httpx.Response:
    """One assignment request from its own client (own connection), released by ``start``."""
    body = {"supervisor_id": str(supervisor_id), "students": 1}
    async with httpx.AsyncClient(base_url=url, timeout=httpx.Timeout(120.0)) as client:
        await start.wait()
        return await client.post(
            API + supervisors_path(booking_id), json=body, headers=PROVIDER.headers()
        )


async def test_50_concurrent_assignments_of_one_peer_supervisor_end_with_2(
    placements_service: RunningService,
) -> None:
    db = placements_service.db
    await project_agreement(db, agreement_terms())
    # Its own maximum is 1: the peer model's two, not the maximum, is the capacity here.
    peer = await project_supervisor(db, supervisor(max_concurrent_students=1))
    booking_ids = await peer_bookings(placements_service, CLIENTS)
    start = asyncio.Event()
    tasks = [
        asyncio.create_task(
            one_assignment(placements_service.url, booking_id, peer.supervisor_id, start)
        )
        for booking_id in booking_ids
    ]
    await asyncio.sleep(0.2)  # every client is waiting at the line
    start.set()
    responses = await asyncio.gather(*tasks)

    outcomes = Counter(
        (r.status_code, r.json()["code"] if r.status_code != 201 else "assigned") for r in responses
    )
    assert outcomes == {
        (201, "assigned"): PEER_CAPACITY,
        (409, "supervisor_over_capacity"): CLIENTS - PEER_CAPACITY,
    }
    active = await assignment_rows(db, supervisor_id=peer.supervisor_id, status="active")
    assert len(active) == PEER_CAPACITY
    assert len(await assignment_rows(db)) == PEER_CAPACITY
    accepted = {r.json()["id"] for r in responses if r.status_code == 201}
    assert {str(row["id"]) for row in active} == accepted
    assert {e.aggregateid for e in await supervision_events(db, ASSIGNED)} == accepted
    assert len(await supervision_events(db, ASSIGNED)) == PEER_CAPACITY
