"""Demand lines: universities state what they need of a round until demand is due; each
sees its own lines and everyone the totals; nothing half-written on bad input.

Through the real app over HTTP, on SQLite and PostgreSQL; the calendar is pinned.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from openpyxl import Workbook
from placements.calendar import CALENDAR

from services.placements.tests.booking_kit import events, problem_code
from services.placements.tests.conftest import (
    ADMIN,
    OTHER_PROVIDER,
    OTHER_UNIVERSITY,
    OTHER_UNIVERSITY_ID,
    PROVIDER,
    UNIVERSITY,
    UNIVERSITY_ID,
    RunningService,
)
from services.placements.tests.rounds_kit import (
    COORDINATOR,
    GATES,
    OPENED_ON,
    ROUNDS,
    STOCKHOLM_COORDINATOR,
    day,
    open_round,
    project_coordinators,
)

LINE: dict[str, Any] = {
    "profession_code": "sjukskoterska",
    "programme_code": "sjukskoterskeprogrammet",
    "course_code": "3SJ201",
    "course_instance": "HT27-1",
    "start_date": "2027-09-06",
    "end_date": "2027-10-29",
    "students": 24,
    "care_settings": ["slutenvard"],
    "municipality_codes": ["0380"],
    "accepts_other_municipality": True,
}


@pytest.fixture(autouse=True)
def pinned_calendar() -> Iterator[None]:
    CALENDAR.set(OPENED_ON)
    yield
    CALENDAR.set(None)


@pytest.fixture
async def round_path(placements_service: RunningService) -> str:
    await project_coordinators(placements_service.db)
    opened = await open_round(placements_service)
    return f"{ROUNDS}/{opened['id']}"


async def submit(service: RunningService, actor: Any, path: str, **changes: Any) -> Any:
    body = {k: v for k, v in (LINE | changes).items() if v is not None}
    return await service.call(actor, "POST", f"{path}/demand", json=body)


def errors_at(response: Any) -> dict[str, str]:
    return {".".join(map(str, e["loc"][1:])): e["type"] for e in response.json()["errors"]}


async def test_a_university_submits_demand_in_dates_or_iso_weeks(
    placements_service: RunningService, round_path: str
) -> None:
    by_dates = await submit(placements_service, UNIVERSITY, round_path)
    assert by_dates.status_code == 201, by_dates.text
    line = by_dates.json()
    assert line["university_id"] == str(UNIVERSITY_ID)
    assert (line["status"], line["version"], line["students"]) == ("active", 1, 24)

    by_weeks = await submit(
        placements_service,
        UNIVERSITY,
        round_path,
        start_date=None,
        end_date=None,
        first_week="2027-W36",
        last_week="2027-W43",
    )
    assert by_weeks.status_code == 201, by_weeks.text
    # Monday of the first week to Friday of the last.
    assert (by_weeks.json()["start_date"], by_weeks.json()["end_date"]) == (
        "2027-09-06",
        "2027-10-29",
    )
    submitted = await events(placements_service.db, type_suffix="demand.submitted.v1")
    assert [e.aggregateid for e in submitted] == [line["id"], by_weeks.json()["id"]]
    assert submitted[0].data["students"] == 24


async def test_each_university_sees_its_own_lines_and_everyone_the_totals(
    placements_service: RunningService, round_path: str
) -> None:
    own = (await submit(placements_service, UNIVERSITY, round_path)).json()
    other = (await submit(placements_service, OTHER_UNIVERSITY, round_path, students=6)).json()
    await submit(
        placements_service, OTHER_UNIVERSITY, round_path, programme_code="spec", students=2
    )

    async def ids(actor: Any, **params: Any) -> list[str]:
        response = await placements_service.call(
            actor, "GET", f"{round_path}/demand", params=params
        )
        assert response.status_code == 200, response.text
        return [line["id"] for line in response.json()["items"]]

    assert await ids(UNIVERSITY) == [own["id"]]
    assert await ids(UNIVERSITY, university_id=str(OTHER_UNIVERSITY_ID)) == []
    assert len(await ids(COORDINATOR)) == 3
    assert await ids(COORDINATOR, university_id=str(OTHER_UNIVERSITY_ID)) == [
        other["id"],
        (await ids(OTHER_UNIVERSITY))[1],
    ]
    foreign = await placements_service.call(UNIVERSITY, "GET", f"{round_path}/demand/{other['id']}")
    assert foreign.status_code == 404
    assert problem_code(foreign) == "demand_line_not_found"
    for outsider in (OTHER_PROVIDER, STOCKHOLM_COORDINATOR):
        refused = await placements_service.call(outsider, "GET", f"{round_path}/demand")
        assert refused.status_code == 403
        assert problem_code(refused) == "demand_lines_not_visible"

    summary = await placements_service.call(UNIVERSITY, "GET", f"{round_path}/demand-summary")
    assert summary.status_code == 200, summary.text
    assert summary.json()["totals"] == [
        {
            "profession_code": "sjukskoterska",
            "programme_code": "sjukskoterskeprogrammet",
            "lines": 2,
            "students": 30,
            "universities": 2,
            "own_students": 24,
        },
        {
            "profession_code": "sjukskoterska",
            "programme_code": "spec",
            "lines": 1,
            "students": 2,
            "universities": 1,
            "own_students": 0,
        },
    ]


async def test_demand_is_taken_through_its_due_date_and_refused_after(
    placements_service: RunningService, round_path: str
) -> None:
    CALENDAR.set(day(GATES["demand_due"]))
    on_the_day = await submit(placements_service, UNIVERSITY, round_path)
    assert on_the_day.status_code == 201, on_the_day.text
    line_path = f"{round_path}/demand/{on_the_day.json()['id']}"

    CALENDAR.set(day(GATES["demand_due"], 1))
    for response in (
        await submit(placements_service, UNIVERSITY, round_path),
        await placements_service.call(UNIVERSITY, "PATCH", line_path, json={"students": 3}),
        await placements_service.call(UNIVERSITY, "POST", f"{line_path}/withdraw"),
    ):
        assert response.status_code == 409, response.text
        problem = response.json()
        assert (problem["code"], problem["gate"], problem["gate_date"]) == (
            "round_gate_closed",
            "demand_due",
            GATES["demand_due"],
        )
    assert len(await events(placements_service.db, type_suffix="demand.submitted.v1")) == 1
    assert await events(placements_service.db, type_suffix="demand.changed.v1") == []


@pytest.mark.parametrize(
    ("changes", "location", "error"),
    [
        ({"profession_code": "astronaut"}, "profession_code", "unknown_profession"),
        ({"students": 0}, "students", "greater_than_equal"),
        ({"students": -3}, "students", "greater_than_equal"),
        ({"course_code": "not a code"}, "course_code", "string_pattern_mismatch"),
        ({"end_date": "2027-09-01"}, "end_date", "end_before_start"),
        ({"first_week": "2027-W36"}, "start_date", "period_given_twice"),
        ({"start_date": None}, "start_date", "period_required"),
        # 2027 has 52 ISO weeks.
        ({"start_date": None, "first_week": "2027-W53"}, "start_date", "week_does_not_exist"),
        ({"care_settings": ["moon_base"]}, "care_settings.0", "literal_error"),
        ({"municipality_codes": ["9999"]}, "municipality_codes.0", "unknown_municipality"),
        # The round is for 2027-HT: 1 August 2027 to 31 January 2028.
        ({"start_date": "2027-06-01"}, "start_date", "period_outside_term"),
    ],
)
async def test_bad_demand_is_refused_with_the_field_at_fault(
    placements_service: RunningService,
    round_path: str,
    changes: dict[str, Any],
    location: str,
    error: str,
) -> None:
    response = await submit(placements_service, UNIVERSITY, round_path, **changes)
    assert response.status_code == 422, response.text
    assert errors_at(response).get(location) == error, response.json()
    assert await events(placements_service.db, type_suffix="demand.submitted.v1") == []


async def test_only_universities_submit_and_an_admin_names_one(
    placements_service: RunningService, round_path: str
) -> None:
    for actor in (PROVIDER, COORDINATOR):
        assert (await submit(placements_service, actor, round_path)).status_code == 403
    missing = await submit(placements_service, ADMIN, round_path)
    assert problem_code(missing) == "university_id_required"
    named = await submit(placements_service, ADMIN, round_path, university_id=str(UNIVERSITY_ID))
    assert named.status_code == 201, named.text
    assert named.json()["university_id"] == str(UNIVERSITY_ID)
    claimed = await submit(
        placements_service, UNIVERSITY, round_path, university_id=str(OTHER_UNIVERSITY_ID)
    )
    assert claimed.status_code == 403
    unknown = await placements_service.call(
        UNIVERSITY, "POST", f"{ROUNDS}/00000000-0000-7000-8000-000000000999/demand", json=LINE
    )
    assert problem_code(unknown) == "round_not_found"


async def test_a_line_is_changed_and_withdrawn_by_its_university_only(
    placements_service: RunningService, round_path: str
) -> None:
    line = (await submit(placements_service, UNIVERSITY, round_path)).json()
    path = f"{round_path}/demand/{line['id']}"
    changed = await placements_service.call(UNIVERSITY, "PATCH", path, json={"students": 20})
    assert changed.status_code == 200, changed.text
    assert (changed.json()["students"], changed.json()["version"]) == (20, 2)
    same = await placements_service.call(UNIVERSITY, "PATCH", path, json={"students": 20})
    assert same.json()["version"] == 2  # nothing to change

    bad = await placements_service.call(UNIVERSITY, "PATCH", path, json={"end_date": "2027-08-01"})
    assert bad.status_code == 422
    assert errors_at(bad) == {"end_date": "end_before_start"}
    outside = await placements_service.call(
        UNIVERSITY, "PATCH", path, json={"end_date": "2028-03-01"}
    )
    assert problem_code(outside) == "period_outside_term"
    assert (
        await placements_service.call(OTHER_UNIVERSITY, "PATCH", path, json={"students": 1})
    ).status_code == 404
    coordinator = await placements_service.call(COORDINATOR, "PATCH", path, json={"students": 1})
    assert coordinator.status_code == 403

    withdrawn = await placements_service.call(UNIVERSITY, "POST", f"{path}/withdraw")
    assert withdrawn.json()["status"] == "withdrawn"
    again = await placements_service.call(UNIVERSITY, "POST", f"{path}/withdraw")
    assert again.json()["version"] == withdrawn.json()["version"]
    after = await placements_service.call(UNIVERSITY, "PATCH", path, json={"students": 5})
    assert problem_code(after) == "demand_line_withdrawn"
    summary = await placements_service.call(UNIVERSITY, "GET", f"{round_path}/demand-summary")
    assert summary.json()["totals"] == []
    kinds = [
        e.type.split(".")[3]
        for e in await events(placements_service.db, type_suffix="v1")
        if e.aggregatetype == "demand_line"
    ]
    assert kinds == ["submitted", "changed", "withdrawn"]
    read = await placements_service.call(UNIVERSITY, "GET", path)
    assert (read.json()["students"], read.json()["status"]) == (20, "withdrawn")


async def test_a_repeated_submission_with_its_idempotency_key_stores_one_line(
    placements_service: RunningService, round_path: str
) -> None:
    headers = {"Idempotency-Key": "demand-1"}
    first = await placements_service.call(
        UNIVERSITY, "POST", f"{round_path}/demand", json=LINE, headers=headers
    )
    second = await placements_service.call(
        UNIVERSITY, "POST", f"{round_path}/demand", json=LINE, headers=headers
    )
    assert first.status_code == second.status_code == 201
    assert first.json()["id"] == second.json()["id"]
    assert len(await events(placements_service.db, type_suffix="demand.submitted.v1")) == 1


# --- bulk import ------------------------------------------------------------------------

CSV_HEADER = (
    "profession_code;programme_code;course_code;first_week;last_week;start_date;end_date;"
    "students;municipality_codes;accepts_other_weeks"
)


def csv_file(*rows: str) -> bytes:
    return ("\ufeff" + "\n".join((CSV_HEADER, *rows)) + "\n").encode()


async def upload(
    service: RunningService, path: str, content: bytes, name: str = "demand.csv", **params: Any
) -> Any:
    return await service.call(
        UNIVERSITY, "POST", f"{path}/demand/import", files={"file": (name, content)}, params=params
    )


GOOD_ROWS = (
    "sjukskoterska;sjukskoterskeprogrammet;3SJ201;2027-W36;2027-W43;;;24;0380|0381;ja",
    "arbetsterapeut;arbetsterapeutprogrammet;3AT101;;;2027-09-13;2027-10-08;6;;nej",
)


async def test_an_import_stores_every_row_or_none(
    placements_service: RunningService, round_path: str
) -> None:
    dry = await upload(placements_service, round_path, csv_file(*GOOD_ROWS), dry_run="true")
    assert dry.status_code == 200, dry.text
    assert (dry.json()["created"], dry.json()["dry_run"]) == (0, True)
    assert await events(placements_service.db, type_suffix="demand.submitted.v1") == []

    bad = await upload(
        placements_service,
        round_path,
        csv_file(
            *GOOD_ROWS,
            "sjukskoterska;sjukskoterskeprogrammet;3SJ201;;;2027-09-06;2027-10-29;0;;",
            "sjukskoterska;sjukskoterskeprogrammet;3SJ201;;;2028-03-06;2028-03-29;4;;",
        ),
    )
    assert bad.status_code == 422, bad.text
    assert problem_code(bad) == "import_has_errors"
    assert [
        (r["row"], [(e["field"], e["code"]) for e in r["errors"]]) for r in bad.json()["errors"]
    ] == [
        (4, [("students", "greater_than_equal")]),
        (5, [("start_date", "period_outside_term")]),
    ]
    assert await events(placements_service.db, type_suffix="demand.submitted.v1") == []

    stored = await upload(placements_service, round_path, csv_file(*GOOD_ROWS))
    assert stored.status_code == 201, stored.text
    assert stored.json()["created"] == 2
    lines = (await placements_service.call(UNIVERSITY, "GET", f"{round_path}/demand")).json()[
        "items"
    ]
    assert [(line["start_date"], line["end_date"], line["students"]) for line in lines] == [
        ("2027-09-06", "2027-10-29", 24),
        ("2027-09-13", "2027-10-08", 6),
    ]
    assert lines[0]["municipality_codes"] == ["0380", "0381"]
    assert [line["accepts_other_weeks"] for line in lines] == [True, False]
    assert [r["demand_line_id"] for r in stored.json()["rows"]] == [line["id"] for line in lines]


async def test_an_xlsx_import_reads_typed_cells_like_csv_text(
    placements_service: RunningService, round_path: str
) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(
        [
            "profession_code",
            "programme_code",
            "course_code",
            "start_date",
            "end_date",
            "students",
            "accepts_other_municipality",
        ]
    )
    sheet.append(
        [
            "sjukskoterska",
            "sjukskoterskeprogrammet",
            "3SJ201",
            date(2027, 9, 6),
            date(2027, 10, 29),
            12,
            True,
        ]
    )
    buffer = io.BytesIO()
    book.save(buffer)
    stored = await upload(placements_service, round_path, buffer.getvalue(), name="demand.xlsx")
    assert stored.status_code == 201, stored.text
    line = (await placements_service.call(UNIVERSITY, "GET", f"{round_path}/demand")).json()[
        "items"
    ][0]
    assert (line["students"], line["accepts_other_municipality"]) == (12, True)


async def test_an_import_after_demand_is_due_is_refused_whole(
    placements_service: RunningService, round_path: str
) -> None:
    CALENDAR.set(day(GATES["demand_due"], 1))
    late = await upload(placements_service, round_path, csv_file(*GOOD_ROWS))
    assert late.status_code == 409
    assert problem_code(late) == "round_gate_closed"
    header_only = await upload(placements_service, round_path, b"students\n3\n")
    assert header_only.status_code == 409  # the gate is checked before the file is read
