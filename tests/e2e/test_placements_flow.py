"""End to end, the placements flow: the processes ``make run`` starts, with its demo data.

The student portal finds demo offers with free places through the gateway; a university
books one and the provider confirms; 200 concurrent bookers on a 10-place offer end with
exactly 10 confirmed — on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

import httpx
import pytest
from vfu_devrun.launcher import Launcher

pytestmark = pytest.mark.e2e
API = "/api/v1/placements"
BOOKERS = 200
PLACES = 10


@pytest.fixture
def system(shared_system: Launcher) -> Launcher:
    return shared_system


def _bearer(system: Launcher, name: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {system.key_named(name)}"}


async def _search_as_portal(client: httpx.AsyncClient, system: Launcher) -> list[dict[str, Any]]:
    response = await client.get(
        f"{API}/search/offers",
        params={"profession_code": "sjukskoterska", "healthcare_region": "Mellansverige"},
        headers=_bearer(system, "student portal"),
    )
    assert response.status_code == 200, response.text
    assert response.headers.get("etag")
    hits: list[dict[str, Any]] = response.json()["items"]
    return hits


async def _book(
    client: httpx.AsyncClient, headers: dict[str, str], offer_id: str, course: str
) -> httpx.Response:
    body = {"offer_id": offer_id, "places": 1, "course_code": course, "course_instance": "HT-1"}
    return await client.post(f"{API}/bookings", json=body, headers=headers)


async def test_portal_search_booking_and_200_concurrent_bookers(system: Launcher) -> None:
    university = _bearer(system, "Uppsala universitet")
    provider = _bearer(system, "Region Uppsala")
    limits = httpx.Limits(max_connections=BOOKERS, max_keepalive_connections=BOOKERS)
    async with httpx.AsyncClient(
        base_url=system.config.gateway_url, timeout=60, limits=limits
    ) as client:
        hits = await _search_as_portal(client, system)
        assert hits, "the demo offers are listed"
        assert all(hit["free_places"] > 0 for hit in hits)
        assert {"student_ids", "students", "bookings"}.isdisjoint(hits[0])
        bookable = next(h for h in hits if h["provider_name"] == "Region Uppsala")

        booked = await _book(client, university, bookable["id"], "1SJ030")
        assert booked.status_code == 201, booked.text
        confirmed = await client.post(
            f"{API}/bookings/{booked.json()['id']}/confirm", json={}, headers=provider
        )
        assert confirmed.status_code == 200, confirmed.text
        assert confirmed.json()["status"] == "confirmed"

        hot = await _hot_offer(client, provider, bookable)
        answers = await asyncio.gather(
            *(_book(client, university, hot["id"], "1SJ031") for _ in range(BOOKERS))
        )
        statuses = Counter(answer.status_code for answer in answers)
        assert statuses == {201: PLACES, 409: BOOKERS - PLACES}, statuses
        refusals = {a.json()["code"] for a in answers if a.status_code == 409}
        assert refusals == {"capacity_exceeded"}
        assert {a.json()["status"] for a in answers if a.status_code == 201} == {"confirmed"}

        offer = (await client.get(f"{API}/offers/{hot['id']}", headers=provider)).json()
        assert (offer["confirmed_places"], offer["held_places"], offer["free_places"]) == (
            PLACES,
            0,
            0,
        )
        listed = await client.get(
            f"{API}/bookings", params={"offer_id": hot["id"], "limit": 200}, headers=provider
        )
        assert listed.status_code == 200, listed.text
        assert Counter(b["status"] for b in listed.json()["items"]) == {"confirmed": PLACES}


async def _hot_offer(
    client: httpx.AsyncClient, provider: dict[str, str], like: dict[str, Any]
) -> dict[str, Any]:
    """A published, first-come 10-place offer at the same unit and dates as ``like``."""
    body = {
        "unit_id": like["unit_id"],
        "programme_code": like["programme_code"],
        "profession_code": like["profession_code"],
        "level": like["level"],
        "term": like["term"],
        "start_date": like["start_date"],
        "end_date": like["end_date"],
        "places": PLACES,
        "supervision_model": "one_to_one",
        "visibility": "all",
        "requirements": [],
        "auto_confirm": True,
        "publish": True,
    }
    created = await client.post(f"{API}/offers", json=body, headers=provider)
    assert created.status_code == 201, created.text
    offer: dict[str, Any] = created.json()
    return offer
