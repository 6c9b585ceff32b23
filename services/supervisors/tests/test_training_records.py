"""Training records: reporting, matching, the state machine, events, qualification, access."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from supervisors.training.schemas import swedish_today
from vfu_common.events.contracts import (
    QUALIFICATION_CHANGED,
    TRAINING_RECORDED,
    TRAINING_VERIFIED,
)

from services.supervisors.tests.conftest import (
    ADMIN,
    COORDINATOR,
    EMPLOYER,
    OTHER_EMPLOYER,
    OTHER_UNIVERSITY,
    PORTAL,
    REGION_ID,
    UNIVERSITY,
    UNIVERSITY_ID,
    Actor,
    RunningService,
)
from services.supervisors.tests.training_kit import (
    DONE_ON,
    create_course,
    events,
    hsa_id,
    insert_supervisor,
    record_count,
    report,
    supervisor_row,
)

PERSONAL = {"name", "hsa_id", "employer_reference", "roles", "licence_verified_on"}


async def test_a_completion_qualifies_the_supervisor_in_the_same_transaction(
    supervisors_service: RunningService,
) -> None:
    db = supervisors_service.db
    supervisor_id = await insert_supervisor(db)
    course = await create_course(supervisors_service)
    response = await report(supervisors_service, course["id"], supervisor_id=str(supervisor_id))
    assert response.status_code == 201, response.text
    record = response.json()
    assert (record["status"], record["completed_on"], record["verified_at"]) == (
        "completed",
        DONE_ON.isoformat(),
        None,
    )
    assert (record["issuer_id"], record["employer_id"]) == (str(UNIVERSITY_ID), str(REGION_ID))
    assert (record["course_code"], record["course_level"], record["version"]) == (
        "3HA100",
        "course_7_5hp",
        1,
    )
    row = await supervisor_row(db, supervisor_id)
    assert (row["qualified"], row["level_achieved"], row["qualification_reason"]) == (
        True,
        "course_7_5hp",
        "qualified",
    )
    announced = await events(db)
    assert [e.type for e in announced] == [
        TRAINING_RECORDED.event_type,
        QUALIFICATION_CHANGED.event_type,
    ]
    recorded, qualification = announced
    assert recorded.aggregateid == record["id"]
    assert recorded.aggregateversion == 1
    assert recorded.data["status"] == "completed"
    assert recorded.data["supervisor_id"] == str(supervisor_id)
    assert not PERSONAL & set(recorded.data)
    assert qualification.data["qualified"] is True
    assert qualification.data["previous_qualified"] is False
    assert qualification.aggregateversion == row["version"]


async def test_training_below_the_requirement_or_without_licence_does_not_qualify(
    supervisors_service: RunningService,
) -> None:
    db = supervisors_service.db
    intro = await create_course(
        supervisors_service, code="INTRO", level="introduction", hours=2, credits_hp=None
    )
    full = await create_course(supervisors_service)
    trained = await insert_supervisor(db, 1)
    unlicensed = await insert_supervisor(db, 2, licence_verified=False)
    assert (
        await report(supervisors_service, intro["id"], supervisor_id=str(trained))
    ).status_code == 201
    row = await supervisor_row(db, trained)
    assert (row["qualified"], row["level_achieved"]) == (False, "introduction")
    assert row["qualification_reason"] == "training_below_requirement"
    assert (
        await report(supervisors_service, full["id"], supervisor_id=str(unlicensed))
    ).status_code == 201
    row = await supervisor_row(db, unlicensed)
    assert (row["qualified"], row["level_achieved"]) == (False, "course_7_5hp")
    assert row["qualification_reason"] == "licence_not_verified"
    changes = [e for e in await events(db) if e.type == QUALIFICATION_CHANGED.event_type]
    assert [e.data["level_achieved"] for e in changes] == ["introduction", "course_7_5hp"]
    assert all(e.data["qualified"] is False for e in changes)


async def test_supervisors_are_matched_by_hsa_id_or_employer_reference(
    supervisors_service: RunningService,
) -> None:
    db = supervisors_service.db
    by_hsa = await insert_supervisor(db, 1)
    by_reference = await insert_supervisor(db, 2, with_hsa_id=False)
    course = await create_course(supervisors_service)
    first = await report(supervisors_service, course["id"], hsa_id=hsa_id(1))
    assert (first.status_code, first.json()["supervisor_id"]) == (201, str(by_hsa))
    second = await report(
        supervisors_service, course["id"], employer_id=str(REGION_ID), employer_reference="EMP-0002"
    )
    assert (second.status_code, second.json()["supervisor_id"]) == (201, str(by_reference))
    for fields in (
        {"hsa_id": hsa_id(9)},
        {"employer_id": str(REGION_ID), "employer_reference": "EMP-0999"},
        {"employer_id": str(OTHER_EMPLOYER.organisation_id), "employer_reference": "EMP-0002"},
        {"supervisor_id": "00000000-0000-7000-8000-000000009999"},
    ):
        unmatched = await report(supervisors_service, course["id"], UNIVERSITY, **fields)
        assert unmatched.status_code == 422, (fields, unmatched.text)
        assert unmatched.json()["code"] == "supervisor_not_matched"
    assert await record_count(db) == 2


async def test_bad_reports_are_refused_with_stable_codes(
    supervisors_service: RunningService,
) -> None:
    db = supervisors_service.db
    supervisor_id = str(await insert_supervisor(db, 1))
    gone = str(await insert_supervisor(db, 2, active=False))
    course = await create_course(supervisors_service)
    foreign = await create_course(supervisors_service, OTHER_UNIVERSITY, "OTHER1")
    tomorrow = (swedish_today() + timedelta(days=1)).isoformat()
    invalid: list[tuple[dict[str, Any], str]] = [
        ({"supervisor_id": supervisor_id, "hsa_id": hsa_id(1)}, "supervisor_reference_invalid"),
        ({}, "supervisor_reference_invalid"),
        ({"employer_reference": "EMP-0001"}, "supervisor_reference_incomplete"),
        ({"supervisor_id": supervisor_id, "completed_on": None}, "completed_on_required"),
        ({"supervisor_id": supervisor_id, "completed_on": tomorrow}, "completed_on_in_future"),
        ({"supervisor_id": supervisor_id, "status": "registered"}, "completed_on_not_allowed"),
        ({"supervisor_id": supervisor_id, "status": "verified"}, "literal_error"),
        ({"supervisor_id": supervisor_id, "hsa_id": None, "name": "X"}, "extra_forbidden"),
    ]
    for fields, expected in invalid:
        response = await report(supervisors_service, course["id"], **fields)
        assert response.status_code == 422, (fields, response.text)
        assert expected in [e["type"] for e in response.json()["errors"]], (fields, response.text)
    not_run = await report(supervisors_service, foreign["id"], supervisor_id=supervisor_id)
    assert (not_run.status_code, not_run.json()["code"]) == (403, "course_not_run_by_caller")
    unknown = await report(
        supervisors_service, "00000000-0000-7000-8000-000000009999", supervisor_id=supervisor_id
    )
    assert (unknown.status_code, unknown.json()["code"]) == (404, "course_not_found")
    deregistered = await report(supervisors_service, course["id"], supervisor_id=gone)
    assert (deregistered.status_code, deregistered.json()["code"]) == (
        409,
        "supervisor_deregistered",
    )
    assert await record_count(db) == 0
    assert (
        await report(supervisors_service, course["id"], supervisor_id=supervisor_id)
    ).status_code == 201
    duplicate = await report(
        supervisors_service, course["id"], hsa_id=hsa_id(1), status="registered", completed_on=None
    )
    assert (duplicate.status_code, duplicate.json()["code"]) == (409, "duplicate_training_record")
    assert await record_count(db) == 1
    for actor in (PORTAL, COORDINATOR):
        refused = await report(
            supervisors_service, course["id"], actor, supervisor_id=supervisor_id
        )
        assert refused.status_code == 403


async def test_a_record_moves_through_its_states_and_is_verified_once(
    supervisors_service: RunningService,
) -> None:
    db = supervisors_service.db
    supervisor_id = await insert_supervisor(db)
    course = await create_course(supervisors_service)
    created = await report(
        supervisors_service,
        course["id"],
        supervisor_id=str(supervisor_id),
        status="registered",
        completed_on=None,
    )
    assert created.status_code == 201, created.text
    path = f"/training-records/{created.json()['id']}"

    async def act(action: str, actor: Actor = UNIVERSITY, **body: Any) -> Any:
        return await supervisors_service.call(actor, "POST", f"{path}/{action}", json=body or None)

    early = await act("verify")
    assert (early.status_code, early.json()["code"]) == (409, "invalid_training_transition")
    assert (await act("start")).json()["status"] == "in_progress"
    assert (await supervisor_row(db, supervisor_id))["qualified"] is False
    no_date = await act("complete")
    assert no_date.status_code == 422
    completed = await act("complete", completed_on=DONE_ON.isoformat())
    assert (completed.json()["status"], completed.json()["completed_on"]) == (
        "completed",
        DONE_ON.isoformat(),
    )
    assert (await supervisor_row(db, supervisor_id))["qualified"] is True
    not_issuer = await act("verify", EMPLOYER)
    assert (not_issuer.status_code, not_issuer.json()["code"]) == (403, "course_not_run_by_caller")
    hidden = await act("verify", OTHER_UNIVERSITY)
    assert (hidden.status_code, hidden.json()["code"]) == (404, "training_record_not_found")
    verified = await act("verify")
    assert verified.status_code == 200, verified.text
    assert (verified.json()["status"], verified.json()["version"]) == ("verified", 4)
    assert verified.json()["verified_at"] is not None
    twice = await act("verify")
    assert (twice.status_code, twice.json()["code"]) == (409, "already_verified")
    for action in ("start", "fail", "withdraw", "reenrol"):
        refused = await act(action)
        assert (refused.status_code, refused.json()["code"]) == (409, "invalid_training_transition")
    assert (await supervisor_row(db, supervisor_id))["qualified"] is True
    announced = [e for e in await events(db) if e.aggregatetype == "training_record"]
    assert [(e.type, e.data["status"], e.aggregateversion) for e in announced] == [
        (TRAINING_RECORDED.event_type, "registered", 1),
        (TRAINING_RECORDED.event_type, "in_progress", 2),
        (TRAINING_RECORDED.event_type, "completed", 3),
        (TRAINING_RECORDED.event_type, "verified", 4),
        (TRAINING_VERIFIED.event_type, "verified", 4),
    ]


async def test_a_failed_or_withdrawn_record_is_reenrolled(
    supervisors_service: RunningService,
) -> None:
    supervisor_id = await insert_supervisor(supervisors_service.db)
    course = await create_course(supervisors_service)
    created = await report(
        supervisors_service,
        course["id"],
        supervisor_id=str(supervisor_id),
        status="in_progress",
        completed_on=None,
    )
    path = f"/training-records/{created.json()['id']}"
    steps = [
        ("fail", "failed"),
        ("reenrol", "registered"),
        ("withdraw", "withdrawn"),
        ("reenrol", "registered"),
    ]
    for action, status in steps:
        response = await supervisors_service.call(ADMIN, "POST", f"{path}/{action}")
        assert (response.status_code, response.json()["status"]) == (200, status), action
    failed_again = await supervisors_service.call(UNIVERSITY, "POST", f"{path}/fail")
    assert failed_again.json()["status"] == "failed"
    complete = await supervisors_service.call(
        UNIVERSITY, "POST", f"{path}/complete", json={"completed_on": DONE_ON.isoformat()}
    )
    assert (complete.status_code, complete.json()["code"]) == (409, "invalid_training_transition")


async def test_records_are_seen_by_issuer_employer_coordinator_and_admin_only(
    supervisors_service: RunningService,
) -> None:
    db = supervisors_service.db
    mine = await insert_supervisor(db, 1)
    theirs = await insert_supervisor(db, 2, employer_id=OTHER_EMPLOYER.organisation_id)  # type: ignore[arg-type]
    course = await create_course(supervisors_service)
    other_course = await create_course(supervisors_service, OTHER_UNIVERSITY, "OTHER1")
    first = (await report(supervisors_service, course["id"], supervisor_id=str(mine))).json()
    second = (await report(supervisors_service, course["id"], supervisor_id=str(theirs))).json()
    third = (
        await report(
            supervisors_service, other_course["id"], OTHER_UNIVERSITY, supervisor_id=str(mine)
        )
    ).json()

    async def visible(actor: Actor, **params: Any) -> list[str]:
        response = await supervisors_service.call(actor, "GET", "/training-records", params=params)
        assert response.status_code == 200, response.text
        return [r["id"] for r in response.json()["items"]]

    assert await visible(UNIVERSITY) == [first["id"], second["id"]]
    assert await visible(OTHER_UNIVERSITY) == [third["id"]]
    assert await visible(EMPLOYER) == [first["id"], third["id"]]
    assert await visible(OTHER_EMPLOYER) == [second["id"]]
    assert await visible(COORDINATOR) == [first["id"], second["id"], third["id"]]
    assert await visible(ADMIN, supervisor_id=str(mine)) == [first["id"], third["id"]]
    assert await visible(ADMIN, course_id=other_course["id"]) == [third["id"]]
    assert await visible(ADMIN, status="verified") == []
    assert await visible(ADMIN, limit=2) == [first["id"], second["id"]]
    for actor, record, status in (
        (OTHER_UNIVERSITY, first, 404),
        (OTHER_EMPLOYER, first, 404),
        (EMPLOYER, second, 404),
        (EMPLOYER, third, 200),
        (COORDINATOR, second, 200),
        (PORTAL, first, 403),
    ):
        response = await supervisors_service.call(actor, "GET", f"/training-records/{record['id']}")
        assert response.status_code == status, (actor, record["id"], response.text)
        if status == 200:
            assert response.json() == record
            assert not PERSONAL & set(response.json())
    portal_list = await supervisors_service.call(PORTAL, "GET", "/training-records")
    assert portal_list.status_code == 403
