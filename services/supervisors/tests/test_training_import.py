"""Bulk reports of training records: CSV and JSON, all-or-nothing, partial, dry run."""

from __future__ import annotations

from typing import Any

from vfu_common.events.contracts import QUALIFICATION_CHANGED, TRAINING_RECORDED

from services.supervisors.tests.conftest import (
    ADMIN,
    EMPLOYER,
    OTHER_UNIVERSITY,
    PORTAL,
    REGION_ID,
    UNIVERSITY,
    UNIVERSITY_ID,
    Actor,
    RunningService,
)
from services.supervisors.tests.training_kit import (
    create_course,
    events,
    hsa_id,
    insert_supervisor,
    record_count,
    supervisor_row,
)

IMPORT = "/training-records/import"
CSV = {"content-type": "text/csv"}


async def _csv(service: RunningService, text: str, actor: Actor = UNIVERSITY, **params: Any) -> Any:
    return await service.call(
        actor, "POST", IMPORT, content=text.encode(), headers=CSV, params=params
    )


async def _json(
    service: RunningService, records: Any, actor: Actor = UNIVERSITY, **params: Any
) -> Any:
    return await service.call(actor, "POST", IMPORT, json={"records": records}, params=params)


async def test_a_csv_report_stores_every_row_and_qualifies(
    supervisors_service: RunningService,
) -> None:
    db = supervisors_service.db
    first = await insert_supervisor(db, 1)
    second = await insert_supervisor(db, 2)
    await create_course(supervisors_service)
    text = (
        "\ufeffcourse_code;hsa_id;employer_id;employer_reference;status;completed_on\n"
        f"3HA100;{hsa_id(1)};;;completed;2025-05-20\n"
        "\n"
        f"3HA100;;{REGION_ID};EMP-0002;in_progress;\n"
    )
    response = await _csv(supervisors_service, text)
    assert response.status_code == 201, response.text
    report = response.json()
    assert (report["stored"], report["errors"], report["unmatched"]) == (2, 0, 0)
    assert [(r["row"], r["status"]) for r in report["rows"]] == [(2, "stored"), (4, "stored")]
    assert all(r["record_id"] for r in report["rows"])
    assert (await supervisor_row(db, first))["qualified"] is True
    assert (await supervisor_row(db, second))["qualified"] is False
    types = [e.type for e in await events(db)]
    assert types.count(TRAINING_RECORDED.event_type) == 2
    assert types.count(QUALIFICATION_CHANGED.event_type) == 1


async def test_all_or_nothing_stores_nothing_when_one_row_fails(
    supervisors_service: RunningService,
) -> None:
    db = supervisors_service.db
    await insert_supervisor(db, 1)
    await insert_supervisor(db, 2)
    await create_course(supervisors_service)
    text = (
        "course_code,hsa_id,completed_on\n"
        f"3HA100,{hsa_id(1)},2025-05-20\n"
        f"3HA100,{hsa_id(2)},not-a-date\n"
        f"3HA100,{hsa_id(7)},2025-05-20\n"
    )
    response = await _csv(supervisors_service, text)
    assert response.status_code == 422, response.text
    problem = response.json()
    assert problem["code"] == "import_has_errors"
    assert [(r["row"], r["status"], r["code"], r["field"]) for r in problem["errors"]] == [
        (3, "error", "date_from_datetime_parsing", "completed_on"),
        (4, "unmatched", "supervisor_not_matched", "supervisor"),
    ]
    assert await record_count(db) == 0
    assert await events(db) == []


async def test_a_partial_json_report_stores_only_valid_rows_and_reports_the_rest(
    supervisors_service: RunningService,
) -> None:
    db = supervisors_service.db
    ok = await insert_supervisor(db, 1)
    await insert_supervisor(db, 2, active=False)
    course = await create_course(supervisors_service)
    foreign = await create_course(supervisors_service, OTHER_UNIVERSITY, "OTHER1")
    records = [
        {"course_id": course["id"], "supervisor_id": str(ok), "completed_on": "2025-05-20"},
        {"course_code": "3HA100", "hsa_id": hsa_id(1), "status": "registered"},
        {"course_code": "3HA100", "hsa_id": hsa_id(2), "completed_on": "2025-05-20"},
        {"course_code": "3HA100", "hsa_id": hsa_id(8), "completed_on": "2025-05-20"},
        {"course_id": foreign["id"], "hsa_id": hsa_id(1), "completed_on": "2025-05-20"},
        {"course_code": "NOPE", "hsa_id": hsa_id(1), "completed_on": "2025-05-20"},
        {"hsa_id": hsa_id(1), "completed_on": "2025-05-20"},
        "not an object",
    ]
    response = await _json(supervisors_service, records, mode="partial")
    assert response.status_code == 200, response.text
    report = response.json()
    assert (report["stored"], report["errors"], report["unmatched"]) == (1, 6, 1)
    outcome = [(r["row"], r["status"], r["code"], r["field"]) for r in report["rows"]]
    assert outcome == [
        (1, "stored", None, None),
        (2, "error", "duplicate_training_record", "supervisor"),
        (3, "error", "supervisor_deregistered", "supervisor"),
        (4, "unmatched", "supervisor_not_matched", "supervisor"),
        (5, "error", "course_not_run_by_caller", "course_id"),
        (6, "error", "course_not_run_by_caller", "course_code"),
        (7, "error", "course_reference_invalid", "course"),
        (8, "error", "model_type", "row"),
    ]
    assert await record_count(db) == 1
    assert (await supervisor_row(db, ok))["qualified"] is True
    again = await _json(supervisors_service, records[:1], mode="partial")
    assert again.json()["rows"][0]["code"] == "duplicate_training_record"
    assert await record_count(db) == 1


async def test_a_dry_run_checks_everything_and_stores_nothing(
    supervisors_service: RunningService,
) -> None:
    db = supervisors_service.db
    await insert_supervisor(db, 1)
    await create_course(supervisors_service)
    rows = [{"course_code": "3HA100", "hsa_id": hsa_id(1), "completed_on": "2025-05-20"}]
    clean = await _json(supervisors_service, rows, dry_run="true")
    assert clean.status_code == 200, clean.text
    assert [(r["status"], r["record_id"]) for r in clean.json()["rows"]] == [("valid", None)]
    assert (clean.json()["stored"], clean.json()["dry_run"]) == (0, True)
    rows.append({"course_code": "3HA100", "hsa_id": hsa_id(9), "completed_on": "2025-05-20"})
    partial = await _json(supervisors_service, rows, dry_run="true", mode="partial")
    assert [r["status"] for r in partial.json()["rows"]] == ["valid", "unmatched"]
    strict = await _json(supervisors_service, rows, dry_run="true")
    assert (strict.status_code, strict.json()["code"]) == (422, "import_has_errors")
    assert await record_count(db) == 0
    assert await events(db) == []


async def test_bad_bodies_get_clear_codes(supervisors_service: RunningService) -> None:
    cases: list[tuple[Any, int, str]] = [
        ("course_code,hsa_id,colour\nX,Y,Z\n", 422, "import_bad_header"),
        ("hsa_id,completed_on\nX,2025-01-01\n", 422, "import_bad_header"),
        ("course_code,hsa_id\n", 422, "import_empty"),
        ("course_code,hsa_id\n" + "X,Y\n" * 5001, 422, "import_too_large"),
        ("course_code,hsa_id\n" + "X" * (1024 * 1024), 413, "payload_too_large"),
    ]
    for text, status, code in cases:
        response = await _csv(supervisors_service, text)
        assert (response.status_code, response.json()["code"]) == (status, code), code
    latin1 = await supervisors_service.call(
        UNIVERSITY,
        "POST",
        IMPORT,
        content="course_code,hsa_id\nÅ,X\n".encode("latin-1"),
        headers=CSV,
    )
    assert latin1.json()["code"] == "import_bad_encoding"
    for content in (b"{not json", b'{"rows": []}', b'{"records": {}}'):
        bad = await supervisors_service.call(
            UNIVERSITY,
            "POST",
            IMPORT,
            content=content,
            headers={"content-type": "application/json"},
        )
        assert (bad.status_code, bad.json()["code"]) == (422, "import_unreadable"), content
    empty = await _json(supervisors_service, [])
    assert empty.json()["code"] == "import_empty"
    xml = await supervisors_service.call(
        UNIVERSITY, "POST", IMPORT, content=b"<x/>", headers={"content-type": "application/xml"}
    )
    assert (xml.status_code, xml.json()["code"]) == (415, "unsupported_media_type")


async def test_who_may_report_in_bulk(supervisors_service: RunningService) -> None:
    db = supervisors_service.db
    await insert_supervisor(db, 1)
    course = await create_course(supervisors_service)
    row = {"course_code": "3HA100", "hsa_id": hsa_id(1), "completed_on": "2025-05-20"}
    assert (await _json(supervisors_service, [row], PORTAL)).status_code == 403
    other = await _json(supervisors_service, [row], OTHER_UNIVERSITY)
    assert other.json()["errors"][0]["code"] == "course_not_run_by_caller"
    employer = await _json(supervisors_service, [row], EMPLOYER)
    assert employer.json()["errors"][0]["code"] == "course_not_run_by_caller"
    admin_by_code = await _json(supervisors_service, [row], ADMIN)
    assert admin_by_code.json()["errors"][0]["code"] == "course_not_run_by_caller"
    by_admin = await _json(supervisors_service, [row], ADMIN, issuer_id=str(UNIVERSITY_ID))
    assert by_admin.status_code == 201, by_admin.text
    records = await supervisors_service.call(UNIVERSITY, "GET", "/training-records")
    assert [r["course_id"] for r in records.json()["items"]] == [course["id"]]
    assert records.json()["items"][0]["reported_by_organisation_id"] == str(UNIVERSITY_ID)
