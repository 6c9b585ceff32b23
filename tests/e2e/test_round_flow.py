"""End to end, a planning round through the gateway: the processes ``make run`` starts,
with its demo data; the launcher's calendar file moves the placements service's day.

A provider opens a round; two universities state demand; once demand and offers are due
the coordinator previews the allocation, publishes it, and each university reads its own
places and explanations (never the other's); the published shares are confirmed bookings
with the round as their origin. On SQLite: the service tests cover PostgreSQL.
"""

from __future__ import annotations

import os
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from vfu_devrun.launcher import CALENDAR_FILE, Launcher
from vfu_domain.swedish_calendar import SwedishCalendar

from tests.e2e.conftest import UNTHROTTLED, running_system

pytestmark = pytest.mark.e2e
API = "/api/v1/placements"


def _next_term(today: date) -> tuple[str, date, date]:
    """The demo agreement's term and a six-week period inside it (Monday to Friday)."""
    if today.month < 7:
        start = date(today.year, 9, 6)
        term = f"{today.year}-HT"
    else:
        start = date(today.year + 1, 2, 1)
        term = f"{today.year + 1}-VT"
    start += timedelta(days=(7 - start.weekday()) % 7)
    return term, start, start + timedelta(weeks=6, days=-3)


def _set_today(path: Path, day: date) -> None:
    temporary = path.with_suffix(".new")
    temporary.write_text(day.isoformat())
    os.replace(temporary, path)


class Caller:
    def __init__(self, client: httpx.AsyncClient, system: Launcher, name: str) -> None:
        self.client = client
        self.headers = {"Authorization": f"Bearer {system.key_named(name)}"}
        self.organisation_id = system.credentials["clients"][name]["organisation_id"]

    async def call(self, method: str, path: str, body: Any = None, status: int = 200) -> Any:
        response = await self.client.request(method, API + path, json=body, headers=self.headers)
        assert response.status_code == status, response.text
        return response.json()


async def _the_demo_round_is_published(region: Caller, oru: Caller) -> None:
    """The demo data's round: in its allocation window, its allocation published."""
    [demo] = (await region.call("GET", "/rounds"))["items"]
    assert demo["next_gate"] == "allocation"
    runs = (await region.call("GET", f"/rounds/{demo['id']}/allocations"))["items"]
    assert [run["status"] for run in runs] == ["published"]
    assert sum(p["places"] for p in runs[0]["places"]) > 0
    explained = await oru.call(
        "GET", f"/rounds/{demo['id']}/allocations/{runs[0]['id']}/explanations"
    )
    assert [e["reason"] for e in explained] == ["no_matching_offer"]


@pytest.fixture
def system(tmp_path: Path) -> Any:
    with running_system(tmp_path / "data", {}, UNTHROTTLED) as launcher:
        yield launcher


async def test_a_round_from_demand_to_published_bookings(system: Launcher) -> None:
    calendar_file = system.config.data_dir / CALENDAR_FILE
    today = SwedishCalendar().today()
    term, start, end = _next_term(today)
    async with httpx.AsyncClient(base_url=system.config.gateway_url, timeout=60) as client:
        region = Caller(client, system, "Region Uppsala")
        uu = Caller(client, system, "Uppsala universitet")
        oru = Caller(client, system, "Örebro universitet")
        await _the_demo_round_is_published(region, oru)
        assert not calendar_file.exists(), "the demo left the clock at today"
        units = await region.call("GET", f"/units?provider_id={region.organisation_id}")
        await region.call(
            "POST",
            "/offers",
            {
                "unit_id": units["items"][0]["id"],
                "programme_code": "sjukskoterskeprogrammet",
                "profession_code": "sjukskoterska",
                "level": "grundniva",
                "term": term,
                "start_date": start.isoformat(),
                "end_date": end.isoformat(),
                "places": 10,
                "supervision_model": "one_to_one",
                "visibility": "all",
                "publish": True,
            },
            status=201,
        )
        gates = {
            gate: (today + timedelta(days=offset)).isoformat()
            for gate, offset in (
                ("demand_due", 10),
                ("offers_due", 12),
                ("allocation", 14),
                ("answers", 20),
                ("answers_outside_county", 25),
                ("names_due", 40),
                ("lock", 50),
            )
        }
        round_ = await region.call(
            "POST",
            "/rounds",
            {
                "term": term,
                "title": f"VFU {term}, Region Uppsala",
                "scope": {"provider_ids": [region.organisation_id]},
                "gates": gates,
                "policy": {
                    "tiers": [
                        {"name": "own and contracted", "university_ids": [uu.organisation_id]},
                        {"name": "others"},
                    ],
                    "default_tier": "others",
                    "seed": 2027,
                },
            },
            status=201,
        )
        path = f"/rounds/{round_['id']}"
        line = {
            "profession_code": "sjukskoterska",
            "programme_code": "sjukskoterskeprogrammet",
            "course_code": "3SJ201",
            "course_instance": "HT-1",
            "start_date": start.isoformat(),
            "end_date": end.isoformat(),
        }
        uu_line = await uu.call("POST", f"{path}/demand", line | {"students": 8}, status=201)
        oru_line = await oru.call("POST", f"{path}/demand", line | {"students": 4}, status=201)
        early = await region.call("POST", f"{path}/allocations", status=409)
        assert early["code"] == "allocation_not_open"

        # Demand and offers are due: the coordinator's day to allocate.
        _set_today(calendar_file, today + timedelta(days=13))
        run = await region.call("POST", f"{path}/allocations", status=201)
        assert run["status"] == "preview"
        assert run["report"]["solver"]["status"] == "Optimal"
        run_path = f"{path}/allocations/{run['id']}"

        mine = await uu.call("GET", run_path)
        assert {p["demand_line_id"] for p in mine["places"]} == {uu_line["id"]}
        assert sum(p["places"] for p in mine["places"]) == 8
        assert mine["report"] is None
        [explained] = await oru.call("GET", f"{run_path}/explanations")
        # Örebro universitet has no agreement with Region Uppsala: nothing it may take.
        assert explained["line_id"] == oru_line["id"]
        assert explained["reason"] == "no_matching_offer"
        hidden = await oru.call("GET", f"{run_path}/explanations/{uu_line['id']}", status=404)
        assert hidden["code"] == "demand_line_not_found"

        published = await region.call("POST", f"{run_path}/publish")
        assert published["status"] == "published"
        booked = await uu.call("GET", "/bookings?status=confirmed&limit=200")
        from_round = [b for b in booked["items"] if b["round_id"] == round_["id"]]
        assert sum(b["confirmed_places"] for b in from_round) == 8
        check = await region.call("POST", f"{run_path}/check")
        assert check["identical"] is True
