"""Planning rounds: who opens one over what, gates that close by the calendar, the
published and versioned policy, and the lifecycle announcing each passed gate once.

Through the real app over HTTP, on SQLite and PostgreSQL; the calendar is pinned.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from placements.bookings.scheduler import LifecycleScheduler
from placements.calendar import CALENDAR

from services.placements.tests.booking_kit import events, insert_unit, problem_code
from services.placements.tests.conftest import (
    ADMIN,
    OTHER_PROVIDER,
    PORTAL,
    PROVIDER,
    UNIVERSITY,
    UNIVERSITY_ID,
    RunningService,
)
from services.placements.tests.rounds_kit import (
    COORDINATOR,
    COORDINATOR_ID,
    GATES,
    OPENED_ON,
    POLICY,
    ROUNDS,
    STOCKHOLM_COORDINATOR,
    day,
    open_round,
    project_coordinators,
    round_body,
)


@pytest.fixture(autouse=True)
def pinned_calendar() -> Iterator[None]:
    CALENDAR.set(OPENED_ON)
    yield
    CALENDAR.set(None)


@pytest.fixture
async def service(placements_service: RunningService) -> RunningService:
    await project_coordinators(placements_service.db)
    return placements_service


def errors_at(response: Any) -> dict[str, str]:
    """The 422's errors as ``dotted.location: type``."""
    return {".".join(map(str, e["loc"][1:])): e["type"] for e in response.json()["errors"]}


async def test_a_coordinator_opens_a_round_over_its_healthcare_region(
    service: RunningService,
) -> None:
    unit = await insert_unit(service.db, municipality_code="0381")  # Enköping
    body = await open_round(
        service, scope={"municipality_codes": ["0380"], "unit_ids": [str(unit["id"])]}
    )
    assert body["owner_id"] == str(COORDINATOR_ID)
    assert body["gates"] == GATES
    assert body["gates_passed"] == []
    assert body["next_gate"] == "demand_due"
    assert body["policy"]["version"] == 1
    assert body["policy"]["tiers"] == POLICY["tiers"]
    assert body["scope"]["unit_ids"] == [str(unit["id"])]

    read = await service.call(UNIVERSITY, "GET", f"{ROUNDS}/{body['id']}")
    assert read.status_code == 200
    assert read.json() == body
    listed = await service.call(PROVIDER, "GET", ROUNDS, params={"term": "2027-HT"})
    assert [r["id"] for r in listed.json()["items"]] == [body["id"]]
    opened = await events(service.db, type_suffix="round.opened.v1")
    published = await events(service.db, type_suffix="round.policy_published.v1")
    assert [e.aggregateid for e in opened + published] == [body["id"]] * 2
    assert opened[0].data["gates"]["lock"] == "2027-07-01"


@pytest.mark.parametrize(
    ("actor", "scope", "status", "code"),
    [
        # Stockholm lies in another healthcare region than Region Uppsala's council.
        (COORDINATOR, {"municipality_codes": ["0180"]}, 403, "outside_round_authority"),
        (STOCKHOLM_COORDINATOR, {"municipality_codes": ["0380"]}, 403, "outside_round_authority"),
        # A provider opens rounds over its own capacity, never over a municipality.
        (PROVIDER, {"municipality_codes": ["0380"]}, 403, "outside_round_authority"),
        (OTHER_PROVIDER, "unit", 403, "outside_round_authority"),
        (PROVIDER, "unit", 201, None),
        (PROVIDER, {"provider_ids": ["self"]}, 201, None),
        (
            COORDINATOR,
            {"unit_ids": ["00000000-0000-7000-8000-000000000999"]},
            422,
            "unknown_scope_entry",
        ),
    ],
)
async def test_a_round_covers_only_what_its_opener_coordinates(
    service: RunningService, actor: Any, scope: Any, status: int, code: str | None
) -> None:
    if scope == "unit":
        scope = {"unit_ids": [str((await insert_unit(service.db))["id"])]}
    if scope.get("provider_ids") == ["self"]:
        scope = {"provider_ids": [str(actor.organisation_id)]}
    response = await service.call(actor, "POST", ROUNDS, json=round_body(scope=scope))
    assert response.status_code == status, response.text
    if code is not None:
        assert problem_code(response) == code
    assert len(await events(service.db, type_suffix="round.opened.v1")) == (status == 201)


async def test_universities_and_portals_do_not_open_rounds(service: RunningService) -> None:
    for actor in (UNIVERSITY, PORTAL):
        response = await service.call(actor, "POST", ROUNDS, json=round_body())
        assert response.status_code == 403, response.text
    assert (await service.call(PORTAL, "GET", ROUNDS)).status_code == 403


async def test_an_admin_names_the_coordinating_organisation(service: RunningService) -> None:
    missing = await service.call(ADMIN, "POST", ROUNDS, json=round_body())
    assert problem_code(missing) == "owner_id_required"
    body = await open_round(
        service, ADMIN, owner_id=str(COORDINATOR_ID), scope={"municipality_codes": ["0180"]}
    )
    assert body["owner_id"] == str(COORDINATOR_ID)


@pytest.mark.parametrize(
    ("change", "location", "error"),
    [
        ({"gates": GATES | {"allocation": "2027-03-20"}}, "gates.allocation", "gates_out_of_order"),
        ({"gates": GATES | {"lock": "2027-06-01"}}, "gates.lock", "gates_out_of_order"),
        ({"policy": POLICY | {"default_tier": "nobody"}}, "policy.default_tier", "undefined_tier"),
        (
            {"policy": POLICY | {"fairness_basis": "admitted_students"}},
            "policy.admitted_students",
            "admitted_students_missing",
        ),
        (
            {"policy": POLICY | {"tiers": [POLICY["tiers"][0], POLICY["tiers"][0]]}},
            "policy.tiers",
            "tier_names_repeated",
        ),
        ({"scope": {}}, "scope.municipality_codes", "empty_scope"),
        (
            {"scope": {"municipality_codes": ["9999"]}},
            "scope.municipality_codes.0",
            "unknown_municipality",
        ),
        ({"mode": "first_come"}, "mode", "literal_error"),
    ],
)
async def test_bad_rounds_are_refused_with_the_field_at_fault(
    service: RunningService, change: dict[str, Any], location: str, error: str
) -> None:
    response = await service.call(COORDINATOR, "POST", ROUNDS, json=round_body(**change))
    assert response.status_code == 422, response.text
    assert errors_at(response).get(location) == error, response.json()
    assert await events(service.db) == []


async def test_fairness_by_admitted_students_needs_every_named_university(
    service: RunningService,
) -> None:
    policy = POLICY | {
        "fairness_basis": "admitted_students",
        "admitted_students": {str(UNIVERSITY_ID): 140},
    }
    body = await open_round(service, policy=policy)
    assert body["policy"]["admitted_students"] == {str(UNIVERSITY_ID): 140}


async def test_a_round_whose_gate_has_passed_cannot_be_opened(service: RunningService) -> None:
    CALENDAR.set(day(GATES["demand_due"], 1))
    response = await service.call(COORDINATOR, "POST", ROUNDS, json=round_body())
    assert response.status_code == 422
    assert problem_code(response) == "gate_in_past"


async def test_the_policy_is_versioned_until_the_day_before_allocation(
    service: RunningService,
) -> None:
    round_ = await open_round(service)
    path = f"{ROUNDS}/{round_['id']}/policy"
    changed = POLICY | {"seed": 7}
    second = await service.call(COORDINATOR, "PUT", path, json=changed)
    assert second.status_code == 200, second.text
    assert (second.json()["policy"]["version"], second.json()["policy"]["seed"]) == (2, 7)
    again = await service.call(COORDINATOR, "PUT", path, json=changed)
    assert again.json()["policy"]["version"] == 2  # the same policy publishes nothing
    assert (await service.call(PROVIDER, "PUT", path, json=POLICY)).status_code == 403

    CALENDAR.set(day(GATES["allocation"], -1))
    assert (await service.call(COORDINATOR, "PUT", path, json=POLICY)).status_code == 200
    CALENDAR.set(day(GATES["allocation"]))
    closed = await service.call(COORDINATOR, "PUT", path, json=changed)
    assert closed.status_code == 409, closed.text
    problem = closed.json()
    assert problem["code"] == "round_gate_closed"
    assert (problem["gate"], problem["gate_date"]) == ("allocation", GATES["allocation"])

    versions = await service.call(UNIVERSITY, "GET", f"{ROUNDS}/{round_['id']}/policies")
    assert [v["version"] for v in versions.json()] == [1, 2, 3]
    assert [v["seed"] for v in versions.json()] == [POLICY["seed"], 7, POLICY["seed"]]
    published = await events(service.db, type_suffix="round.policy_published.v1")
    assert [e.data["version"] for e in published] == [1, 2, 3]


async def test_gates_pass_by_the_calendar_and_are_announced_once(
    service: RunningService,
) -> None:
    round_ = await open_round(service)
    schedulers = [LifecycleScheduler(service.db, interval_seconds=3600) for _ in range(2)]
    after_answers = day(GATES["answers"], 1)
    CALENDAR.set(after_answers)
    reports = await asyncio.gather(*(s.tick(after_answers) for s in schedulers))
    await schedulers[0].tick(after_answers)
    announced = await events(service.db, type_suffix="round.gate_passed.v1")
    assert [e.data["gate"] for e in announced] == [
        "demand_due",
        "offers_due",
        "allocation",
        "answers",
    ]
    assert sum(len(r.rounds_announced) for r in reports) >= 1
    read = (await service.call(UNIVERSITY, "GET", f"{ROUNDS}/{round_['id']}")).json()
    assert read["gates_passed"] == ["demand_due", "offers_due", "allocation", "answers"]
    assert read["next_gate"] == "answers_outside_county"
    assert read["version"] == 1 + 4  # each passage is a change of the round

    after_lock = day(GATES["lock"], 1)
    CALENDAR.set(after_lock)
    await schedulers[1].tick(after_lock)
    announced = await events(service.db, type_suffix="round.gate_passed.v1")
    assert len(announced) == 7
    assert [e.aggregateversion for e in announced] == list(range(2, 9))
    assert (await service.call(UNIVERSITY, "GET", f"{ROUNDS}/{round_['id']}")).json()[
        "next_gate"
    ] is None
