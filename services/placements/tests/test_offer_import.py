"""Bulk import of offers from CSV and XLSX over HTTP, on SQLite and PostgreSQL.

A valid file creates every offer in one go (with their events when published); a file
with any bad row stores nothing and reports each bad row with field and code, the codes
POST /offers gives; a dry run stores nothing. Files that cannot be read as a table of
offers (header, size, encoding, format) are refused before any row is looked at.
"""

from __future__ import annotations

import io
import uuid
from collections.abc import Sequence
from datetime import date
from typing import Any

from openpyxl import Workbook
from placements.imports.service import MAX_BYTES, MAX_ROWS
from placements.offers.models import capacity_offers
from sqlalchemy import func, select
from vfu_common.events.envelope import Envelope
from vfu_common.messaging.tables import outbox

from services.placements.tests.conftest import (
    OTHER_PROVIDER,
    PROVIDER,
    REGION_ID,
    UNIVERSITY,
    Actor,
    RunningService,
)

PROBLEM = "application/problem+json"
HSA_ID = "SE2321000016-7ABC"
HEADER = [
    "unit_id",
    "unit_hsa_id",
    "programme_code",
    "profession_code",
    "level",
    "term",
    "start_date",
    "end_date",
    "places",
    "supervision_model",
    "visibility",
    "requirements",
    "auto_confirm",
    "release_on",
]


async def new_unit(service: RunningService, actor: Actor = PROVIDER, **extra: Any) -> str:
    body = {"name": "Avd 7", "municipality_code": "1280", "care_setting": "psykiatri"} | extra
    response = await service.call(actor, "POST", "/units", json=body)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def row(unit_id: str = "", hsa_id: str = "", **overrides: str) -> list[str]:
    """One offer line in HEADER order, as a coordinator's spreadsheet holds it."""
    values = {
        "unit_id": unit_id,
        "unit_hsa_id": hsa_id,
        "programme_code": "sjukskoterskeprogrammet",
        "profession_code": "sjukskoterska",
        "level": "grundniva",
        "term": "2027-HT",
        "start_date": "2027-09-06",
        "end_date": "2027-10-15",
        "places": "4",
        "supervision_model": "one_to_one",
        "visibility": "all",
        "requirements": "Swedish C1 | criminal-record extract",
        "auto_confirm": "nej",
        "release_on": "",
    } | overrides
    return [values[name] for name in HEADER]


def csv_file(
    lines: Sequence[Sequence[str]], *, separator: str = ";", header: Sequence[str] = HEADER
) -> bytes:
    """A CSV as Swedish Excel saves 'CSV UTF-8': BOM, ';', CRLF line ends."""
    text = "\r\n".join(separator.join(cells) for cells in [header, *lines]) + "\r\n"
    return b"\xef\xbb\xbf" + text.encode()


def xlsx_file(lines: Sequence[Sequence[Any]], *, header: Sequence[str] = HEADER) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for cells in [header, *lines]:
        sheet.append(list(cells))
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


async def upload(
    service: RunningService,
    content: bytes,
    *,
    name: str = "offers.csv",
    actor: Actor = PROVIDER,
    **params: str,
) -> Any:
    return await service.call(
        actor, "POST", "/offers/import", files={"file": (name, content)}, params=params
    )


async def count_offers(service: RunningService) -> int:
    async with service.db.read() as session:
        return int(await session.scalar(select(func.count()).select_from(capacity_offers)) or 0)


async def offers(service: RunningService) -> list[Any]:
    async with service.db.read() as session:
        stmt = select(capacity_offers).order_by(capacity_offers.c.id)
        return list((await session.execute(stmt)).mappings())


async def events(service: RunningService) -> list[Envelope]:
    async with service.db.read() as session:
        rows = (await session.execute(select(outbox.c.payload).order_by(outbox.c.seq))).scalars()
        found = [Envelope.from_bytes(payload) for payload in rows]
    # Units announce themselves too (unit.registered/changed, see test_units); not offer news.
    return [e for e in found if e.aggregatetype != "unit"]


def problem(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    body: dict[str, Any] = response.json()
    assert body["code"] == code, body
    return body


async def test_a_semicolon_csv_creates_every_offer_as_drafts(
    placements_service: RunningService,
) -> None:
    unit_id = await new_unit(placements_service, hsa_id=HSA_ID)
    content = csv_file(
        [
            row(unit_id),
            row(
                hsa_id=HSA_ID,
                places="2",
                supervision_model="peer_2_to_1",
                auto_confirm="Ja",
                release_on="2027-08-16",
            ),
            [""] * len(HEADER),  # a blank line is skipped
            row(unit_id, programme_code="", requirements="", visibility="", auto_confirm=""),
        ]
    )

    response = await upload(placements_service, content)

    assert response.status_code == 201, response.text
    report = response.json()
    assert (report["created"], report["errors"], report["dry_run"]) == (3, 0, False)
    assert [(r["row"], r["status"]) for r in report["rows"]] == [(2, "ok"), (3, "ok"), (5, "ok")]
    stored = await offers(placements_service)
    assert [str(o["id"]) for o in stored] == [r["offer_id"] for r in report["rows"]]
    assert {o["status"] for o in stored} == {"draft"}
    assert {o["unit_id"] for o in stored} == {uuid.UUID(unit_id)}
    assert {o["provider_id"] for o in stored} == {REGION_ID}
    first, peer, bare = stored
    assert first["requirements"] == '["Swedish C1", "criminal-record extract"]'
    assert (first["start_date"], first["municipality_code"]) == (date(2027, 9, 6), "1280")
    assert (peer["places"], peer["auto_confirm"]) == (2, True)
    assert (first["release_on"], peer["release_on"]) == (None, date(2027, 8, 16))
    assert (bare["programme_code"], bare["visibility"], bare["requirements"]) == (
        None,
        "partners",
        "[]",
    )
    assert await events(placements_service) == []  # drafts are private


async def test_a_comma_csv_can_publish_at_once(placements_service: RunningService) -> None:
    unit_id = await new_unit(placements_service)
    content = csv_file([row(unit_id), row(unit_id, places="6")], separator=",")

    response = await upload(placements_service, content, publish="true")

    assert response.status_code == 201, response.text
    assert (response.json()["created"], response.json()["published"]) == (2, True)
    emitted = await events(placements_service)
    ids = [r["offer_id"] for r in response.json()["rows"]]
    assert [(e.type, e.aggregateid, e.aggregateversion) for e in emitted] == [
        ("vfu.placements.offer.published.v1", offer_id, 1) for offer_id in ids
    ]
    assert [e.data["places"] for e in emitted] == [4, 6]


async def test_an_xlsx_with_typed_cells_creates_every_offer(
    placements_service: RunningService,
) -> None:
    unit_id = await new_unit(placements_service, hsa_id=HSA_ID)
    lines: list[list[Any]] = [
        [unit_id, None, "sjukskoterskeprogrammet", "sjukskoterska", "grundniva", "2027-HT",
         date(2027, 9, 6), date(2027, 10, 15), 4, "one_to_one", "all", "Swedish C1", False],
        [None, HSA_ID, None, "lakare", "avancerad_niva", "2028-VT",
         date(2028, 1, 15), date(2028, 3, 1), 2.0, "peer_2_to_1", "partners", None, True],
    ]  # fmt: skip

    response = await upload(
        placements_service, xlsx_file(lines), name="erbjudanden.xlsx", publish="true"
    )

    assert response.status_code == 201, response.text
    assert response.json()["created"] == 2
    first, second = await offers(placements_service)
    assert (first["end_date"], first["places"], first["auto_confirm"]) == (
        date(2027, 10, 15),
        4,
        False,
    )
    assert (second["profession_code"], second["places"], second["auto_confirm"]) == (
        "lakare",
        2,
        True,
    )
    assert (second["status"], second["programme_code"]) == ("published", None)
    assert len(await events(placements_service)) == 2


async def test_one_bad_row_stores_nothing_and_is_reported(
    placements_service: RunningService,
) -> None:
    unit_id = await new_unit(placements_service)
    theirs = await new_unit(placements_service, OTHER_PROVIDER)
    content = csv_file(
        [
            row(unit_id),
            row(unit_id, places="3", supervision_model="peer_2_to_1"),
            row(unit_id),
            row(theirs, profession_code="astrolog", start_date="2027-07-01"),
            row(hsa_id="SE2321000016-NOPE"),
            row(unit_id, end_date="2027-09-01", places="0", auto_confirm="kanske"),
        ]
    )

    response = await upload(placements_service, content, publish="true")

    body = problem(response, 422, "import_has_errors")
    failing = {r["row"]: {(e["field"], e["code"]) for e in r["errors"]} for r in body["errors"]}
    assert failing == {
        3: {("places", "odd_places_for_peer_model")},
        5: {
            ("unit_id", "not_owner"),
            ("profession_code", "unknown_profession"),
            ("start_date", "dates_outside_term"),
        },
        6: {("unit_hsa_id", "unit_not_found")},
        7: {
            ("end_date", "end_before_start"),
            ("places", "greater_than"),
            ("auto_confirm", "bool_parsing"),
        },
    }
    assert all(r["status"] == "error" for r in body["errors"])
    assert all(e["message"] for r in body["errors"] for e in r["errors"])
    assert "4 of 6 rows" in body["detail"]
    assert await count_offers(placements_service) == 0
    assert await events(placements_service) == []


async def test_a_dry_run_reports_and_stores_nothing(placements_service: RunningService) -> None:
    unit_id = await new_unit(placements_service)
    content = csv_file([row(unit_id), row(unit_id)])

    response = await upload(placements_service, content, dry_run="true", publish="true")

    assert response.status_code == 200, response.text
    report = response.json()
    assert (report["created"], report["errors"], report["dry_run"]) == (0, 0, True)
    assert [(r["row"], r["status"], r.get("offer_id")) for r in report["rows"]] == [
        (2, "ok", None),
        (3, "ok", None),
    ]
    assert await count_offers(placements_service) == 0
    assert await events(placements_service) == []


async def test_unreadable_files_are_refused_whole(placements_service: RunningService) -> None:
    unit_id = await new_unit(placements_service)
    good = row(unit_id)
    cases: list[tuple[bytes, int, str]] = [
        (csv_file([[*good, "x"]], header=[*HEADER, "colour"]), 422, "import_bad_header"),
        (csv_file([[*good, "4"]], header=[*HEADER, "places"]), 422, "import_bad_header"),
        (csv_file([good[2:]], header=HEADER[2:]), 422, "import_bad_header"),
        (csv_file([good[:-1]], header=HEADER[:8] + HEADER[9:]), 422, "import_bad_header"),
        (csv_file([]), 422, "import_empty"),
        (b"", 422, "import_empty"),
        (csv_file([good] * (MAX_ROWS + 1)), 422, "import_too_large"),
        (b"x" * (MAX_BYTES + 1), 413, "payload_too_large"),
        (";".join(HEADER).encode() + "\r\nVårdcentral".encode("cp1252"), 422,
         "import_bad_encoding"),
        (b"PK\x03\x04 not really a workbook", 422, "import_unreadable"),
    ]  # fmt: skip

    for content, status, code in cases:
        problem(await upload(placements_service, content), status, code)
    assert await count_offers(placements_service) == 0


async def test_header_names_are_trimmed_and_case_free(placements_service: RunningService) -> None:
    unit_id = await new_unit(placements_service)
    header = [f" {name.upper()} " for name in HEADER]

    response = await upload(placements_service, xlsx_file([row(unit_id)], header=header))

    assert response.status_code == 201, response.text


async def test_only_providers_and_admins_import(placements_service: RunningService) -> None:
    unit_id = await new_unit(placements_service)

    response = await upload(placements_service, csv_file([row(unit_id)]), actor=UNIVERSITY)

    problem(response, 403, "forbidden")
    assert await count_offers(placements_service) == 0


async def test_the_largest_import_is_stored_whole(placements_service: RunningService) -> None:
    unit_id = await new_unit(placements_service)
    content = csv_file([row(unit_id)] * MAX_ROWS)
    assert len(content) <= MAX_BYTES  # the row cap, not the byte limit, is what this tests

    response = await upload(placements_service, content, publish="true")

    assert response.status_code == 201, response.text[:500]
    assert response.json()["created"] == MAX_ROWS
    assert await count_offers(placements_service) == MAX_ROWS
    assert len(await events(placements_service)) == MAX_ROWS
