"""The supervisor gate over HTTP: each refusal with its code, the accepted path with its
event, and nothing written when refused (SQLite and PostgreSQL via ``database_url``)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest

from services.placements.tests.booking_kit import (
    END,
    START,
    book,
    count_rows,
    insert_offer,
    insert_unit,
    problem_code,
)
from services.placements.tests.conftest import (
    ADMIN,
    OTHER_PROVIDER,
    OTHER_REGION_ID,
    PROVIDER,
    UNIVERSITY,
    RunningService,
    agreement_terms,
    project_agreement,
)
from services.placements.tests.supervision_kit import (
    ASSIGNED,
    assign,
    assignment_rows,
    confirmed_booking,
    project_supervisor,
    supervision_events,
    supervisor,
    supervisors_path,
)


@dataclass
class Setting:
    """An agreement, a unit of REGION and a one-to-one nursing offer on it."""

    service: RunningService
    unit: dict[str, Any]
    offer_id: uuid.UUID

    async def offer(self, **overrides: Any) -> uuid.UUID:
        """Another offer on the unit."""
        return await insert_offer(self.service.db, self.unit, **overrides)


@pytest.fixture
async def setting(placements_service: RunningService) -> Setting:
    db = placements_service.db
    await project_agreement(db, agreement_terms())
    unit = await insert_unit(db)
    return Setting(placements_service, unit, await insert_offer(db, unit))


async def refusal(setting: Setting, booking_id: str, supervisor_id: uuid.UUID, **kw: Any) -> str:
    """Assign, expect a 409 that wrote nothing, and return its code and detail."""
    db = setting.service.db
    before = (await count_rows(db), await assignment_rows(db))
    response = await assign(setting.service, booking_id, supervisor_id, **kw)
    assert response.status_code == 409, response.text
    assert (await count_rows(db), await assignment_rows(db)) == before  # nothing written
    return f"{problem_code(response)}|{response.json()['detail']}"


async def test_a_qualified_supervisor_is_assigned_and_announced(setting: Setting) -> None:
    service = setting.service
    nurse = await project_supervisor(service.db, supervisor())
    booking_id = await confirmed_booking(service, setting.offer_id)

    response = await assign(service, booking_id, nurse.supervisor_id)

    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["booking_id"], body["supervisor_id"]) == (booking_id, str(nurse.supervisor_id))
    assert (body["students"], body["status"], body["version"]) == (1, "active", 1)
    assert (body["release_reason"], body["student_weeks"], body["released_at"]) == (
        None,
        None,
        None,
    )
    (event,) = await supervision_events(service.db, ASSIGNED)
    assert (event.aggregatetype, event.aggregateid, event.aggregateversion) == (
        "supervision",
        body["id"],
        1,
    )
    assert event.data == {
        "assignment_id": body["id"],
        "supervisor_id": str(nurse.supervisor_id),
        "booking_id": booking_id,
        "offer_id": str(setting.offer_id),
        "unit_id": str(setting.unit["id"]),
        "provider_id": str(setting.unit["provider_id"]),
        "university_id": str(UNIVERSITY.organisation_id),
        "profession_code": "sjukskoterska",
        "supervision_model": "one_to_one",
        "students": 1,
        "start_date": START.isoformat(),
        "end_date": END.isoformat(),
    }
    listed = await service.call(UNIVERSITY, "GET", supervisors_path(booking_id))
    assert listed.status_code == 200
    assert listed.json() == {"items": [body], "next_cursor": None}


async def test_an_admin_may_assign(setting: Setting) -> None:
    nurse = await project_supervisor(setting.service.db, supervisor())
    booking_id = await confirmed_booking(setting.service, setting.offer_id)
    response = await assign(setting.service, booking_id, nurse.supervisor_id, actor=ADMIN)
    assert response.status_code == 201, response.text


async def test_a_requested_booking_gets_no_supervisor(setting: Setting) -> None:
    nurse = await project_supervisor(setting.service.db, supervisor())
    requested = (await book(setting.service, UNIVERSITY, setting.offer_id)).json()["id"]
    assert (await refusal(setting, requested, nurse.supervisor_id)).startswith(
        "booking_not_confirmed|"
    )


async def test_a_supervisor_not_projected_yet_is_unknown(setting: Setting) -> None:
    booking_id = await confirmed_booking(setting.service, setting.offer_id)
    found = await refusal(setting, booking_id, uuid.uuid4())
    assert found.startswith("unknown_supervisor|")
    assert "not known here yet" in found


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"active": False}, "supervisor_deregistered"),
        ({"employer_id": OTHER_REGION_ID}, "supervisor_not_employed_by_provider"),
        ({"unit_ids": [uuid.UUID(int=7)]}, "supervisor_not_at_unit"),
        ({"profession_code": "lakare"}, "profession_mismatch"),
        ({"licence_verified": False}, "supervisor_not_qualified"),
        ({"level_achieved": None, "qualified": False}, "supervisor_not_qualified"),
    ],
)
async def test_the_gate_refuses_with_the_rule(
    setting: Setting, overrides: dict[str, Any], code: str
) -> None:
    nurse = await project_supervisor(setting.service.db, supervisor(**overrides))
    booking_id = await confirmed_booking(setting.service, setting.offer_id)
    assert (await refusal(setting, booking_id, nurse.supervisor_id)).startswith(f"{code}|")


async def test_the_qualification_refusal_leads_with_the_rules_reason(setting: Setting) -> None:
    db = setting.service.db
    unlicensed = await project_supervisor(db, supervisor(licence_verified=False))
    untrained = await project_supervisor(db, supervisor(level_achieved="introduction"))
    booking_id = await confirmed_booking(setting.service, setting.offer_id)

    assert (await refusal(setting, booking_id, unlicensed.supervisor_id)).startswith(
        "supervisor_not_qualified|licence_not_verified: "
    )
    assert (await refusal(setting, booking_id, untrained.supervisor_id)).startswith(
        "supervisor_not_qualified|training_below_requirement: completed training reaches "
        "introduction; basic is required"
    )


async def test_a_supervisor_at_the_offers_unit_is_accepted(setting: Setting) -> None:
    unit_id = setting.unit["id"]
    nurse = await project_supervisor(
        setting.service.db, supervisor(unit_ids=[uuid.uuid4(), unit_id])
    )
    booking_id = await confirmed_booking(setting.service, setting.offer_id)
    assert (await assign(setting.service, booking_id, nurse.supervisor_id)).status_code == 201


async def test_the_agreements_requirement_raises_the_level(
    placements_service: RunningService,
) -> None:
    db = placements_service.db
    strict = agreement_terms(supervision_requirement_level="course_7_5hp")
    await project_agreement(db, strict)
    unit = await insert_unit(db)
    strict_offer = await insert_offer(db, unit)
    basic = await project_supervisor(db, supervisor())
    setting = Setting(placements_service, unit, strict_offer)
    strict_booking = await confirmed_booking(placements_service, strict_offer)

    found = await refusal(setting, strict_booking, basic.supervisor_id)
    assert found.startswith("supervisor_not_qualified|training_below_requirement: ")
    assert "(required level course_7_5hp)" in found

    # The same supervisor passes where no agreement raises the level: another provider's
    # agreement without a requirement, and a supervisor of that provider trained alike.
    lenient = agreement_terms(
        parties=[
            *strict.parties[:1],
            strict.parties[1].model_copy(update={"organisation_id": OTHER_REGION_ID}),
        ]
    )
    await project_agreement(db, lenient)
    other_unit = await insert_unit(db, provider_id=OTHER_REGION_ID)
    lenient_offer = await insert_offer(db, other_unit)
    colleague = await project_supervisor(db, supervisor(employer_id=OTHER_REGION_ID))
    lenient_booking = (await book(placements_service, UNIVERSITY, lenient_offer)).json()["id"]
    confirmed = await placements_service.call(
        OTHER_PROVIDER, "POST", f"/bookings/{lenient_booking}/confirm"
    )
    assert confirmed.status_code == 200, confirmed.text
    accepted = await assign(
        placements_service, lenient_booking, colleague.supervisor_id, actor=OTHER_PROVIDER
    )
    assert accepted.status_code == 201, accepted.text

    # And a supervisor trained to the 7.5 hp course passes the strict agreement.
    trained = await project_supervisor(db, supervisor(level_achieved="course_7_5hp"))
    assert (
        await assign(placements_service, strict_booking, trained.supervisor_id)
    ).status_code == 201


async def test_an_unknown_requirement_level_fails_closed(
    placements_service: RunningService,
) -> None:
    db = placements_service.db
    await project_agreement(db, agreement_terms(supervision_requirement_level="2_day_course"))
    unit = await insert_unit(db)
    offer_id = await insert_offer(db, unit)
    advanced = await project_supervisor(db, supervisor(level_achieved="advanced"))
    booking_id = await confirmed_booking(placements_service, offer_id)

    found = await refusal(
        Setting(placements_service, unit, offer_id), booking_id, advanced.supervisor_id
    )
    assert found.startswith("supervisor_not_qualified|unknown_requirement_level: ")


async def test_a_supervisor_is_assigned_once_per_booking(setting: Setting) -> None:
    nurse = await project_supervisor(setting.service.db, supervisor(max_concurrent_students=3))
    booking_id = await confirmed_booking(setting.service, setting.offer_id, places=3)
    assert (await assign(setting.service, booking_id, nurse.supervisor_id)).status_code == 201
    assert (await refusal(setting, booking_id, nurse.supervisor_id)).startswith(
        "supervisor_already_assigned|"
    )


async def test_students_supervised_never_exceed_the_confirmed_places(setting: Setting) -> None:
    db = setting.service.db
    first = await project_supervisor(db, supervisor(max_concurrent_students=3))
    second = await project_supervisor(db, supervisor(max_concurrent_students=3))
    booking_id = await confirmed_booking(setting.service, setting.offer_id, places=2)

    assert await refusal(setting, booking_id, first.supervisor_id, students=3) == (
        "booking_fully_supervised|Asked to supervise 3 student(s); 2 of the booking's "
        "confirmed places have no supervisor."
    )
    assert (await assign(setting.service, booking_id, first.supervisor_id)).status_code == 201
    assert (await refusal(setting, booking_id, second.supervisor_id, students=2)).startswith(
        "booking_fully_supervised|"
    )
    assert (await assign(setting.service, booking_id, second.supervisor_id)).status_code == 201


async def test_capacity_counts_overlapping_placements_only(setting: Setting) -> None:
    db = setting.service.db
    nurse = await project_supervisor(db, supervisor(max_concurrent_students=1))
    first = await confirmed_booking(setting.service, setting.offer_id)
    overlapping = await confirmed_booking(
        setting.service, await setting.offer(start_date=END, end_date=END + timedelta(days=30))
    )
    later = await confirmed_booking(
        setting.service,
        await setting.offer(start_date=END + timedelta(days=1), end_date=END + timedelta(days=30)),
    )

    assert (await assign(setting.service, first, nurse.supervisor_id)).status_code == 201
    found = await refusal(setting, overlapping, nurse.supervisor_id)
    assert found == (
        "supervisor_over_capacity|The supervisor has 1 student(s) in overlapping placements; "
        "1 more would exceed the capacity of 1 (one_to_one)."
    )
    assert (await assign(setting.service, later, nurse.supervisor_id)).status_code == 201


async def test_the_peer_model_allows_two_students_whatever_the_maximum(setting: Setting) -> None:
    db = setting.service.db
    one_at_a_time = await project_supervisor(db, supervisor(max_concurrent_students=1))
    many = await project_supervisor(db, supervisor(max_concurrent_students=5))
    peer_offer = await setting.offer(supervision_model="peer_2_to_1")
    pair = await confirmed_booking(setting.service, peer_offer, places=2)
    third = await confirmed_booking(setting.service, peer_offer, places=1)
    solo = await confirmed_booking(setting.service, peer_offer, places=3)

    response = await assign(setting.service, pair, one_at_a_time.supervisor_id, students=2)
    assert response.status_code == 201, response.text
    assert (await refusal(setting, third, one_at_a_time.supervisor_id)).startswith(
        "supervisor_over_capacity|"
    )
    found = await refusal(setting, solo, many.supervisor_id, students=3)
    assert found.endswith("would exceed the capacity of 2 (peer_2_to_1).")
    assert (await assign(setting.service, solo, many.supervisor_id, students=2)).status_code == 201


async def test_bad_bodies_are_422(setting: Setting) -> None:
    booking_id = await confirmed_booking(setting.service, setting.offer_id)
    path = supervisors_path(booking_id)
    for body in (
        {"supervisor_id": "not-a-uuid"},
        {"supervisor_id": str(uuid.uuid4()), "students": 0},
        {"supervisor_id": str(uuid.uuid4()), "extra": 1},
        {},
    ):
        response = await setting.service.call(PROVIDER, "POST", path, json=body)
        assert response.status_code == 422, body
        assert problem_code(response) == "validation_error"


async def test_an_idempotency_key_replays_the_assignment(setting: Setting) -> None:
    nurse = await project_supervisor(setting.service.db, supervisor())
    booking_id = await confirmed_booking(setting.service, setting.offer_id)
    body = {"supervisor_id": str(nurse.supervisor_id)}
    headers = {"Idempotency-Key": "assign-1"}
    path = supervisors_path(booking_id)

    first = await setting.service.call(PROVIDER, "POST", path, json=body, headers=headers)
    again = await setting.service.call(PROVIDER, "POST", path, json=body, headers=headers)

    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()
    assert "Idempotent-Replayed" in again.headers
    assert len(await assignment_rows(setting.service.db)) == 1
    assert len(await supervision_events(setting.service.db, ASSIGNED)) == 1
