"""Who may assign, list and release a booking's supervisors (per role and organisation)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from services.placements.tests.booking_kit import insert_offer, insert_unit, problem_code
from services.placements.tests.conftest import (
    ADMIN,
    OTHER_PROVIDER,
    OTHER_UNIVERSITY,
    PORTAL,
    PROVIDER,
    UNIVERSITY,
    Actor,
    RunningService,
    agreement_terms,
    project_agreement,
)
from services.placements.tests.supervision_kit import (
    COORDINATOR,
    assign,
    confirmed_booking,
    project_supervisor,
    supervisor,
    supervisors_path,
)


@pytest.fixture
async def assignment(placements_service: RunningService) -> tuple[str, str, uuid.UUID]:
    """(booking id, assignment id, a second supervisor's id) on a confirmed 2-place booking."""
    db = placements_service.db
    await project_agreement(db, agreement_terms())
    offer_id = await insert_offer(db, await insert_unit(db))
    booking_id = await confirmed_booking(placements_service, offer_id, places=2)
    first = await project_supervisor(db, supervisor())
    second = await project_supervisor(db, supervisor())
    response = await assign(placements_service, booking_id, first.supervisor_id)
    assert response.status_code == 201, response.text
    return booking_id, str(response.json()["id"]), second.supervisor_id


READ = [
    (UNIVERSITY, 200, None),
    (PROVIDER, 200, None),
    (COORDINATOR, 200, None),
    (ADMIN, 200, None),
    (OTHER_UNIVERSITY, 404, "booking_not_found"),
    (OTHER_PROVIDER, 404, "booking_not_found"),
    (PORTAL, 403, "forbidden"),
]
WRITE = [
    (UNIVERSITY, 403, "forbidden"),
    (COORDINATOR, 403, "forbidden"),
    (PORTAL, 403, "forbidden"),
    (OTHER_UNIVERSITY, 403, "forbidden"),
    (OTHER_PROVIDER, 404, "booking_not_found"),
]


@pytest.mark.parametrize(("actor", "status", "code"), READ)
async def test_listing_is_for_the_booking_parties(
    placements_service: RunningService,
    assignment: tuple[str, str, uuid.UUID],
    actor: Actor,
    status: int,
    code: str | None,
) -> None:
    booking_id, assignment_id, _ = assignment
    response = await placements_service.call(actor, "GET", supervisors_path(booking_id))
    assert response.status_code == status, response.text
    if code is None:
        assert [item["id"] for item in response.json()["items"]] == [assignment_id]
    else:
        assert problem_code(response) == code


@pytest.mark.parametrize(("actor", "status", "code"), WRITE)
async def test_only_the_provider_or_an_admin_assigns_and_releases(
    placements_service: RunningService,
    assignment: tuple[str, str, uuid.UUID],
    actor: Actor,
    status: int,
    code: str,
) -> None:
    booking_id, assignment_id, second = assignment
    assigned = await assign(placements_service, booking_id, second, actor=actor)
    released = await placements_service.call(
        actor, "POST", f"{supervisors_path(booking_id)}/{assignment_id}/release"
    )
    for response in (assigned, released):
        assert response.status_code == status, response.text
        assert problem_code(response) == code
    listed = await placements_service.call(ADMIN, "GET", supervisors_path(booking_id))
    assert [(i["id"], i["status"]) for i in listed.json()["items"]] == [(assignment_id, "active")]


async def test_an_unknown_booking_is_not_found(
    placements_service: RunningService, assignment: Any
) -> None:
    missing = str(uuid.uuid4())
    response = await assign(placements_service, missing, uuid.uuid4())
    assert (response.status_code, problem_code(response)) == (404, "booking_not_found")
    listed = await placements_service.call(ADMIN, "GET", supervisors_path(missing))
    assert (listed.status_code, problem_code(listed)) == (404, "booking_not_found")


async def test_the_list_is_paged(
    placements_service: RunningService, assignment: tuple[str, str, uuid.UUID]
) -> None:
    booking_id, first_id, second = assignment
    second_id = (await assign(placements_service, booking_id, second)).json()["id"]
    path = supervisors_path(booking_id)

    page = (await placements_service.call(PROVIDER, "GET", path, params={"limit": 1})).json()
    rest = await placements_service.call(
        PROVIDER, "GET", path, params={"limit": 1, "cursor": page["next_cursor"]}
    )

    assert [i["id"] for i in page["items"]] == [first_id]
    assert rest.json() == {"items": [rest.json()["items"][0]], "next_cursor": None}
    assert rest.json()["items"][0]["id"] == second_id
