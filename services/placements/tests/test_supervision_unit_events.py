"""Unit events for the supervisors service: registered on creation, changed on a change
(UnitV1, aggregate version = the unit's version), in the change's own transaction."""

from __future__ import annotations

from typing import Any

from services.placements.tests.booking_kit import events, problem_code
from services.placements.tests.conftest import PROVIDER, RunningService

UNIT = {
    "name": "Avdelning 3 (test)",
    "municipality_code": "1380",
    "care_setting": "slutenvard",
    "hsa_id": "SE2321000016-S001",
}


async def unit_events(service: RunningService) -> list[tuple[str, str, int, dict[str, Any]]]:
    return [
        (e.type.split(".")[-2], e.aggregateid, e.aggregateversion, e.data)
        for e in await events(service.db)
        if e.aggregatetype == "unit"
    ]


async def test_units_are_announced_when_registered_and_changed(
    placements_service: RunningService,
) -> None:
    created = await placements_service.call(PROVIDER, "POST", "/units", json=UNIT)
    assert created.status_code == 201, created.text
    unit = created.json()
    path = f"/units/{unit['id']}"
    renamed = await placements_service.call(PROVIDER, "PATCH", path, json={"name": "Avd 4"})
    unchanged = await placements_service.call(PROVIDER, "PATCH", path, json={"name": "Avd 4"})
    assert (renamed.status_code, unchanged.status_code) == (200, 200)

    facts = {
        "unit_id": unit["id"],
        "provider_id": str(PROVIDER.organisation_id),
        "municipality_code": "1380",
        "care_setting": "slutenvard",
    }
    # A PATCH that changes nothing is no news.
    assert await unit_events(placements_service) == [
        ("registered", unit["id"], 1, facts | {"name": "Avdelning 3 (test)"}),
        ("changed", unit["id"], 2, facts | {"name": "Avd 4"}),
    ]


async def test_a_refused_unit_announces_nothing(placements_service: RunningService) -> None:
    first = await placements_service.call(PROVIDER, "POST", "/units", json=UNIT)
    taken = await placements_service.call(PROVIDER, "POST", "/units", json=UNIT)
    assert first.status_code == 201
    assert (taken.status_code, problem_code(taken)) == (409, "hsa_id_taken")
    assert [kind for kind, *_ in await unit_events(placements_service)] == ["registered"]
