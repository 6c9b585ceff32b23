"""The privacy matrix of supervisors, per role.

Employer and admin: every field. A university: every field of supervisors assigned (now
or before) to its bookings, 404 for others. Coordinator: every supervisor without
personal fields. Portal: 403. Another provider: 404.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from vfu_common.events.contracts import SUPERVISOR_ASSIGNED, SUPERVISOR_RELEASED

from services.supervisors.tests.conftest import (
    ADMIN,
    COORDINATOR,
    EMPLOYER,
    OTHER_EMPLOYER,
    OTHER_UNIVERSITY,
    OTHER_UNIVERSITY_ID,
    PORTAL,
    UNIVERSITY,
    Actor,
    RunningService,
    deliver,
)
from services.supervisors.tests.registry_kit import assignment, register, released

PERSONAL = {"name", "hsa_id", "employer_reference", "roles", "licence_verified_on"}
SUMMARY = {
    "id",
    "employer_id",
    "profession_code",
    "unit_ids",
    "max_concurrent_students",
    "active",
    "licence_verified",
    "level_achieved",
    "required_level",
    "qualified",
    "qualification_reason",
    "qualified_since",
    "qualification_lapsed_at",
    "current_students",
    "history",
}


async def read(service: RunningService, actor: Actor, supervisor_id: str) -> Any:
    return await service.call(actor, "GET", f"/supervisors/{supervisor_id}")


async def listed(service: RunningService, actor: Actor) -> list[dict[str, Any]]:
    response = await service.call(actor, "GET", "/supervisors")
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


@pytest.mark.parametrize("actor", [EMPLOYER, ADMIN], ids=["employer", "admin"])
async def test_employer_and_admin_see_every_field(
    supervisors_service: RunningService, actor: Actor
) -> None:
    sid = (await register(supervisors_service))["id"]
    response = await read(supervisors_service, actor, sid)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body.keys() >= PERSONAL
    assert body["name"] == "Handledare Test 1"
    assert body["hsa_id"] == "SE2321000016-S001"
    assert [item["name"] for item in await listed(supervisors_service, actor)] == [
        "Handledare Test 1"
    ]


async def test_coordinator_sees_every_supervisor_without_personal_fields(
    supervisors_service: RunningService,
) -> None:
    first = (await register(supervisors_service))["id"]
    second = (await register(supervisors_service, OTHER_EMPLOYER, n=2))["id"]

    response = await read(supervisors_service, COORDINATOR, first)
    assert response.status_code == 200, response.text
    assert set(response.json()) == SUMMARY
    assert "Handledare" not in response.text
    assert "SE2321000016" not in response.text

    items = await listed(supervisors_service, COORDINATOR)
    assert [item["id"] for item in items] == [first, second]
    assert all(set(item) == SUMMARY for item in items)


async def test_portal_is_refused_everywhere(supervisors_service: RunningService) -> None:
    sid = (await register(supervisors_service))["id"]
    for method, path, body in (
        ("GET", "/supervisors", None),
        ("GET", f"/supervisors/{sid}", None),
        ("POST", "/supervisors", {"name": "x"}),
        ("PATCH", f"/supervisors/{sid}", {"name": "x"}),
        ("POST", f"/supervisors/{sid}/deregister", None),
    ):
        response = await supervisors_service.call(PORTAL, method, path, json=body)
        assert response.status_code == 403, (method, path, response.text)
        assert "Handledare" not in response.text


@pytest.mark.parametrize(
    ("actor", "method", "suffix"),
    [
        (UNIVERSITY, "PATCH", ""),
        (UNIVERSITY, "POST", "/deregister"),
        (COORDINATOR, "PATCH", ""),
        (COORDINATOR, "POST", "/deregister"),
        (UNIVERSITY, "POST", None),
        (COORDINATOR, "POST", None),
    ],
)
async def test_only_employers_and_admins_write(
    supervisors_service: RunningService, actor: Actor, method: str, suffix: str | None
) -> None:
    sid = (await register(supervisors_service))["id"]
    path = "/supervisors" if suffix is None else f"/supervisors/{sid}{suffix}"
    response = await supervisors_service.call(actor, method, path, json={"name": "x"})
    assert response.status_code == 403, response.text


async def test_other_provider_gets_404(supervisors_service: RunningService) -> None:
    sid = (await register(supervisors_service))["id"]
    response = await read(supervisors_service, OTHER_EMPLOYER, sid)
    assert response.status_code == 404
    assert response.json()["code"] == "supervisor_not_found"
    assert await listed(supervisors_service, OTHER_EMPLOYER) == []
    # Filtering by the other employer does not widen the view.
    response = await supervisors_service.call(
        OTHER_EMPLOYER, "GET", "/supervisors", params={"employer_id": str(EMPLOYER.organisation_id)}
    )
    assert response.json()["items"] == []


async def test_university_sees_only_supervisors_assigned_to_its_bookings(
    supervisors_service: RunningService,
) -> None:
    assigned_sid = (await register(supervisors_service))["id"]
    other_sid = (await register(supervisors_service, n=2))["id"]

    # Before any assignment: nothing.
    assert (await read(supervisors_service, UNIVERSITY, assigned_sid)).status_code == 404
    assert await listed(supervisors_service, UNIVERSITY) == []

    payload = assignment(assigned_sid)
    await deliver(
        supervisors_service.db, SUPERVISOR_ASSIGNED, payload, aggregate_id=payload.assignment_id
    )

    response = await read(supervisors_service, UNIVERSITY, assigned_sid)
    assert response.status_code == 200, response.text
    assert response.json()["name"] == "Handledare Test 1"  # every field
    assert (await read(supervisors_service, UNIVERSITY, other_sid)).status_code == 404
    assert [i["id"] for i in await listed(supervisors_service, UNIVERSITY)] == [assigned_sid]
    # Another university sees nothing of it.
    assert (await read(supervisors_service, OTHER_UNIVERSITY, assigned_sid)).status_code == 404
    assert await listed(supervisors_service, OTHER_UNIVERSITY) == []

    # Past assignments keep the access (the supervision history concerns the university).
    await deliver(
        supervisors_service.db,
        SUPERVISOR_RELEASED,
        released(payload),
        aggregate_id=payload.assignment_id,
        version=2,
    )
    assert (await read(supervisors_service, UNIVERSITY, assigned_sid)).status_code == 200


async def test_assignment_of_another_university_grants_only_that_one(
    supervisors_service: RunningService,
) -> None:
    sid = (await register(supervisors_service))["id"]
    payload = assignment(sid, university_id=OTHER_UNIVERSITY_ID)
    await deliver(
        supervisors_service.db, SUPERVISOR_ASSIGNED, payload, aggregate_id=payload.assignment_id
    )
    assert (await read(supervisors_service, OTHER_UNIVERSITY, sid)).status_code == 200
    assert (await read(supervisors_service, UNIVERSITY, sid)).status_code == 404


async def test_university_without_organisation_sees_nothing(
    supervisors_service: RunningService,
) -> None:
    sid = (await register(supervisors_service))["id"]
    nobody = Actor("university", None)
    assert (await read(supervisors_service, nobody, sid)).status_code == 404
    assert await listed(supervisors_service, nobody) == []
    assert uuid.UUID(sid)
