"""Assignments end: released by the provider, or with their booking (cancelled by either
party or by the offer's withdrawal, completed by the provider or by date) or their
supervisor (deregistered); each with one ``supervision.released`` event in the same
transaction as the change."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from placements.bookings.scheduler import LifecycleScheduler
from vfu_common.events.contracts import SUPERVISOR_CHANGED

from services.placements.tests.booking_kit import (
    BOOKINGS,
    END,
    START,
    booking_row,
    insert_offer,
    insert_unit,
    problem_code,
)
from services.placements.tests.conftest import (
    PROVIDER,
    UNIVERSITY,
    RunningService,
    agreement_terms,
    project_agreement,
)
from services.placements.tests.supervision_kit import (
    RELEASED,
    assign,
    assignment_rows,
    confirmed_booking,
    project_supervisor,
    supervision_events,
    supervisor,
    supervisors_path,
)

EIGHT_WEEKS = 8  # START (a Monday) .. END (a Friday) spans eight ISO weeks


@pytest.fixture
async def offer_id(placements_service: RunningService) -> uuid.UUID:
    db = placements_service.db
    await project_agreement(db, agreement_terms())
    return await insert_offer(db, await insert_unit(db), supervision_model="peer_2_to_1")


async def assigned(
    service: RunningService, offer_id: uuid.UUID, *, places: int = 2, students: int = 2
) -> tuple[str, str, uuid.UUID]:
    """A confirmed booking with one supervisor taking ``students``: (booking, assignment,
    supervisor)."""
    nurse = await project_supervisor(service.db, supervisor())
    booking_id = await confirmed_booking(service, offer_id, places=places)
    response = await assign(service, booking_id, nurse.supervisor_id, students=students)
    assert response.status_code == 201, response.text
    return booking_id, str(response.json()["id"]), nurse.supervisor_id


async def released_events(service: RunningService) -> list[dict[str, Any]]:
    """(aggregate id, version, reason, student_weeks) of every released event."""
    return [
        {
            "id": e.aggregateid,
            "version": e.aggregateversion,
            "reason": e.data["reason"],
            "student_weeks": e.data["student_weeks"],
            "students": e.data["students"],
        }
        for e in await supervision_events(service.db, RELEASED)
    ]


async def test_the_provider_releases_an_assignment_once(
    placements_service: RunningService, offer_id: uuid.UUID
) -> None:
    booking_id, assignment_id, nurse = await assigned(placements_service, offer_id)
    path = f"{supervisors_path(booking_id)}/{assignment_id}/release"

    first = await placements_service.call(PROVIDER, "POST", path)
    again = await placements_service.call(PROVIDER, "POST", path)
    unknown = await placements_service.call(
        PROVIDER, "POST", f"{supervisors_path(booking_id)}/{uuid.uuid4()}/release"
    )

    assert first.status_code == 200, first.text
    body = first.json()
    assert (body["status"], body["release_reason"], body["student_weeks"]) == (
        "released",
        "released",
        0,
    )
    assert body["version"] == 2
    assert body["released_at"] is not None
    assert (again.status_code, problem_code(again)) == (409, "assignment_not_active")
    assert (unknown.status_code, problem_code(unknown)) == (404, "assignment_not_found")
    assert await released_events(placements_service) == [
        {"id": assignment_id, "version": 2, "reason": "released", "student_weeks": 0, "students": 2}
    ]
    # Released, the supervisor is free again: the same booking may have them back.
    assert (await assign(placements_service, booking_id, nurse, students=2)).status_code == 201


async def test_an_assignment_of_another_booking_is_not_found(
    placements_service: RunningService, offer_id: uuid.UUID
) -> None:
    _, assignment_id, _ = await assigned(placements_service, offer_id)
    other = await confirmed_booking(placements_service, offer_id)
    response = await placements_service.call(
        PROVIDER, "POST", f"{supervisors_path(other)}/{assignment_id}/release"
    )
    assert (response.status_code, problem_code(response)) == (404, "assignment_not_found")
    assert await released_events(placements_service) == []


@pytest.mark.parametrize("party", [UNIVERSITY, PROVIDER])
async def test_cancelling_a_booking_releases_its_supervisors(
    placements_service: RunningService, offer_id: uuid.UUID, party: Any
) -> None:
    booking_id, assignment_id, _ = await assigned(placements_service, offer_id)
    _, untouched, _ = await assigned(placements_service, offer_id)

    response = await placements_service.call(
        party, "POST", f"{BOOKINGS}/{booking_id}/cancel", json={"reason": "changed_plans"}
    )

    assert response.status_code == 200, response.text
    assert await released_events(placements_service) == [
        {
            "id": assignment_id,
            "version": 2,
            "reason": "booking_cancelled",
            "student_weeks": 0,
            "students": 2,
        }
    ]
    (row,) = await assignment_rows(placements_service.db, id=uuid.UUID(assignment_id))
    assert (row["status"], row["release_reason"]) == ("released", "booking_cancelled")
    (other,) = await assignment_rows(placements_service.db, id=uuid.UUID(untouched))
    assert other["status"] == "active"


async def test_withdrawing_the_offer_releases_the_supervisors_of_its_bookings(
    placements_service: RunningService, offer_id: uuid.UUID
) -> None:
    first, first_assignment, _ = await assigned(placements_service, offer_id)
    second, second_assignment, _ = await assigned(placements_service, offer_id)

    response = await placements_service.call(
        PROVIDER, "POST", f"/offers/{offer_id}/withdraw", json={"reason": "staff shortage"}
    )

    assert response.status_code == 200, response.text
    assert {(await booking_row(placements_service.db, b))["status"] for b in (first, second)} == {
        "cancelled"
    }
    found = await released_events(placements_service)
    assert sorted(found, key=lambda e: e["id"]) == [
        {"id": a, "version": 2, "reason": "booking_cancelled", "student_weeks": 0, "students": 2}
        for a in sorted((first_assignment, second_assignment))
    ]
    assert await assignment_rows(placements_service.db, status="active") == []


async def test_completing_a_placement_counts_student_weeks(
    placements_service: RunningService, offer_id: uuid.UUID
) -> None:
    booking_id, assignment_id, _ = await assigned(placements_service, offer_id, students=2)
    path = f"{BOOKINGS}/{booking_id}"
    assert (await placements_service.call(PROVIDER, "POST", f"{path}/start")).status_code == 200
    # A placement in progress still takes supervisors (and keeps them until it ends).
    assert (await released_events(placements_service)) == []

    response = await placements_service.call(PROVIDER, "POST", f"{path}/complete")

    assert response.status_code == 200, response.text
    assert await released_events(placements_service) == [
        {
            "id": assignment_id,
            "version": 2,
            "reason": "booking_completed",
            "student_weeks": 2 * EIGHT_WEEKS,
            "students": 2,
        }
    ]


async def test_the_scheduler_completing_a_placement_releases_its_supervisors(
    placements_service: RunningService, offer_id: uuid.UUID
) -> None:
    booking_id, assignment_id, _ = await assigned(
        placements_service, offer_id, places=2, students=1
    )
    scheduler = LifecycleScheduler(placements_service.db)

    await scheduler.tick(START)
    assert await released_events(placements_service) == []
    await scheduler.tick(END + timedelta(days=1))

    assert (await booking_row(placements_service.db, booking_id))["status"] == "completed"
    assert await released_events(placements_service) == [
        {
            "id": assignment_id,
            "version": 2,
            "reason": "booking_completed",
            "student_weeks": EIGHT_WEEKS,
            "students": 1,
        }
    ]


async def test_a_deregistered_supervisor_leaves_every_assignment(
    placements_service: RunningService, offer_id: uuid.UUID
) -> None:
    db = placements_service.db
    booking_id, assignment_id, nurse_id = await assigned(placements_service, offer_id)

    state = supervisor(supervisor_id=nurse_id, active=False)
    await project_supervisor(db, state, version=2, contract=SUPERVISOR_CHANGED)

    assert await released_events(placements_service) == [
        {
            "id": assignment_id,
            "version": 2,
            "reason": "supervisor_deregistered",
            "student_weeks": 0,
            "students": 2,
        }
    ]
    refused = await assign(placements_service, booking_id, nurse_id, students=2)
    assert (refused.status_code, problem_code(refused)) == (409, "supervisor_deregistered")
    # A duplicate of the same event changes nothing and announces nothing again.
    await project_supervisor(db, state, version=2, contract=SUPERVISOR_CHANGED)
    assert len(await released_events(placements_service)) == 1
