"""End to end, the supervisor gate: the processes ``make run`` starts, with its demo data.

Through the gateway, on SQLite and PostgreSQL: the placements service refuses the
demo's under-trained supervisor with a reason; the university that runs the basic
supervisor course reports a completion (matching the supervisor by the employer's own
staff reference, as a university would); the supervisors service qualifies the
supervisor; the qualification travels over NATS to the placements service, which then
accepts the supervisor on a confirmed booking. The portal sees none of it.
"""

from __future__ import annotations

import asyncio
import time
from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from vfu_devrun.launcher import Launcher
from vfu_domain.reference import organisation_id_for_number

pytestmark = pytest.mark.e2e
SUPERVISORS = "/api/v1/supervisors"
PLACEMENTS = "/api/v1/placements"
REGION_UPPSALA_ID = str(organisation_id_for_number("2321000024"))
EMERGENCY_UNIT = "Akademiska sjukhuset, akutmottagningen"


@pytest.fixture
def system(shared_system: Launcher) -> Launcher:
    return shared_system


def _bearer(system: Launcher, name: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {system.key_named(name)}"}


async def _ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


async def _demo_supervisor(client: httpx.AsyncClient, employer: dict[str, str], ref: str) -> Any:
    listed = await _ok(
        await client.get(f"{SUPERVISORS}/supervisors", params={"limit": 100}, headers=employer)
    )
    return next(s for s in listed["items"] if s["employer_reference"] == ref)


async def _confirmed_booking(
    client: httpx.AsyncClient, provider: dict[str, str], university: dict[str, str]
) -> str:
    """A new two-place nursing booking at the emergency unit, confirmed by the provider."""
    units = await _ok(
        await client.get(
            f"{PLACEMENTS}/units",
            params={"provider_id": REGION_UPPSALA_ID, "limit": 100},
            headers=provider,
        )
    )
    unit_id = next(u["id"] for u in units["items"] if u["name"] == EMERGENCY_UNIT)
    term = f"{date.today().year + 1}-VT"
    start = date(date.today().year + 1, 2, 2)
    offer = await _ok(
        await client.post(
            f"{PLACEMENTS}/offers",
            json={
                "unit_id": unit_id,
                "programme_code": "sjukskoterskeprogrammet",
                "profession_code": "sjukskoterska",
                "level": "grundniva",
                "term": term,
                "start_date": start.isoformat(),
                "end_date": (start + timedelta(weeks=5)).isoformat(),
                "places": 2,
                "supervision_model": "one_to_one",
                "visibility": "all",
                "requirements": [],
                "publish": True,
            },
            headers=provider,
        ),
        201,
    )
    booking = await _ok(
        await client.post(
            f"{PLACEMENTS}/bookings",
            json={
                "offer_id": offer["id"],
                "places": 1,
                "course_code": "1SJ030",
                "course_instance": f"{term}-2",
            },
            headers=university,
        ),
        201,
    )
    await _ok(
        await client.post(
            f"{PLACEMENTS}/bookings/{booking['id']}/confirm", json={}, headers=provider
        )
    )
    return str(booking["id"])


async def _assign(
    client: httpx.AsyncClient, provider: dict[str, str], booking_id: str, supervisor_id: str
) -> httpx.Response:
    return await client.post(
        f"{PLACEMENTS}/bookings/{booking_id}/supervisors",
        json={"supervisor_id": supervisor_id, "students": 1},
        headers=provider,
    )


async def test_reported_completion_qualifies_a_supervisor_the_gate_then_accepts(
    system: Launcher,
) -> None:
    provider = _bearer(system, "Region Uppsala")
    university = _bearer(system, "Uppsala universitet")
    portal = _bearer(system, "student portal")
    async with httpx.AsyncClient(base_url=system.config.gateway_url, timeout=30) as client:
        trainee = await _demo_supervisor(client, provider, "DEMO-3")
        assert (trainee["qualified"], trainee["level_achieved"]) == (False, "introduction")
        booking_id = await _confirmed_booking(client, provider, university)

        refused = await _assign(client, provider, booking_id, trainee["id"])
        assert refused.status_code == 409, refused.text
        assert refused.headers["content-type"].startswith("application/problem+json")
        assert refused.json()["code"] == "supervisor_not_qualified"
        assert "basic" in refused.json()["detail"]

        courses = await _ok(await client.get(f"{SUPERVISORS}/courses", headers=university))
        basic = next(c for c in courses["items"] if c["course_code"] == "HL010")
        reported = await _ok(
            await client.post(
                f"{SUPERVISORS}/training-records",
                json={
                    "course_id": basic["id"],
                    "employer_id": REGION_UPPSALA_ID,
                    "employer_reference": "DEMO-3",
                    "status": "completed",
                    "completed_on": (date.today() - timedelta(days=1)).isoformat(),
                },
                headers=university,
            ),
            201,
        )
        assert reported["supervisor_id"] == trainee["id"]
        now = await _ok(
            await client.get(f"{SUPERVISORS}/supervisors/{trainee['id']}", headers=provider)
        )
        assert (now["qualified"], now["level_achieved"]) == (True, "basic")

        # The qualification reaches the placements service as an event, not by a call.
        deadline = time.monotonic() + 20
        accepted = await _assign(client, provider, booking_id, trainee["id"])
        while accepted.status_code == 409 and time.monotonic() < deadline:
            assert accepted.json()["code"] == "supervisor_not_qualified", accepted.text
            await asyncio.sleep(0.2)
            accepted = await _assign(client, provider, booking_id, trainee["id"])
        assert accepted.status_code == 201, accepted.text

        # The university now sees the supervisor of its booking; the portal sees nothing.
        seen = await client.get(f"{SUPERVISORS}/supervisors/{trainee['id']}", headers=university)
        deadline = time.monotonic() + 20
        while seen.status_code == 404 and time.monotonic() < deadline:  # assignment event
            await asyncio.sleep(0.2)
            seen = await client.get(
                f"{SUPERVISORS}/supervisors/{trainee['id']}", headers=university
            )
        assert seen.status_code == 200, seen.text
        assert seen.json()["name"] == "Handledare Demo 3"
        hidden = await client.get(f"{SUPERVISORS}/supervisors/{trainee['id']}", headers=portal)
        assert hidden.status_code == 403
