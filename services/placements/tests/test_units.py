"""Care units over HTTP on SQLite and PostgreSQL: creating, reading, changing, refusing.

Units are public facts: every role reads them, only the owning provider or an admin
changes them. Bad input is a 422 naming the field and a stable type, and leaves no row.
A unit's change reaches its offers' copied location in the same transaction, and each
published offer announces it (``offer.updated``, with the offer's next version).
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from placements.offers.models import capacity_offers
from placements.units.models import care_units
from sqlalchemy import func, select
from vfu_common.events.envelope import Envelope
from vfu_common.messaging.tables import outbox

from services.placements.tests.conftest import (
    ADMIN,
    OTHER_PROVIDER,
    OTHER_REGION_ID,
    PORTAL,
    PROVIDER,
    REGION_ID,
    UNIVERSITY,
    Actor,
    RunningService,
)

PROBLEM = "application/problem+json"
COORDINATOR = Actor("coordinator", uuid.UUID("00000000-0000-7000-8000-000000000009"))
HSA_ID = "SE2321000016-7ABC"


def unit_body(**overrides: Any) -> dict[str, Any]:
    """A unit in Halmstad (county 13, healthcare region Södra)."""
    return {
        "name": "Avdelning 12, Hallands sjukhus",
        "municipality_code": "1380",
        "care_setting": "slutenvard",
        "latitude": 56.67,
        "longitude": 12.86,
        "rural": False,
        "vulnerable_area": True,
        "special_requirements": ["criminal-record extract"],
    } | overrides


def offer_body(unit_id: str, **overrides: Any) -> dict[str, Any]:
    return {
        "unit_id": unit_id,
        "profession_code": "sjukskoterska",
        "level": "grundniva",
        "term": "2027-HT",
        "start_date": "2027-09-06",
        "end_date": "2027-10-15",
        "supervision_model": "one_to_one",
        "places": 4,
    } | overrides


async def create_unit(service: RunningService, actor: Actor = PROVIDER, **overrides: Any) -> Any:
    response = await service.call(actor, "POST", "/units", json=unit_body(**overrides))
    assert response.status_code == 201, response.text
    return response.json()


async def count(service: RunningService, table: Any) -> int:
    async with service.db.read() as session:
        return int(await session.scalar(select(func.count()).select_from(table)) or 0)


async def events(service: RunningService) -> list[Envelope]:
    async with service.db.read() as session:
        rows = (await session.execute(select(outbox.c.payload).order_by(outbox.c.seq))).scalars()
        return [Envelope.from_bytes(payload) for payload in rows]


def problem(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    body: dict[str, Any] = response.json()
    assert body["code"] == code, body
    return body


def field_error(response: Any, field: str, error_type: str) -> None:
    body = problem(response, 422, "validation_error")
    found = [(e["loc"], e["type"]) for e in body["errors"]]
    assert (["body", field], error_type) in found, found


async def test_provider_creates_a_unit_with_derived_county_and_region(
    placements_service: RunningService,
) -> None:
    unit = await create_unit(placements_service, hsa_id=HSA_ID)

    assert unit["provider_id"] == str(REGION_ID)
    assert unit["hsa_id"] == HSA_ID
    assert (unit["municipality_code"], unit["county_code"]) == ("1380", "13")
    # Halmstad is in Halland, whose healthcare region depends on the municipality.
    assert unit["healthcare_region"] == "Södra"
    assert unit["special_requirements"] == ["criminal-record extract"]
    assert (unit["version"], unit["vulnerable_area"]) == (1, True)
    async with placements_service.db.read() as session:
        stored = (await session.execute(select(care_units))).mappings().one()
    assert stored["healthcare_region"] == "Södra"
    assert json.loads(stored["special_requirements"]) == ["criminal-record extract"]


async def test_every_role_reads_units(placements_service: RunningService) -> None:
    unit = await create_unit(placements_service)

    for actor in (PROVIDER, OTHER_PROVIDER, UNIVERSITY, PORTAL, ADMIN, COORDINATOR):
        one = await placements_service.call(actor, "GET", f"/units/{unit['id']}")
        listed = await placements_service.call(actor, "GET", "/units")

        assert one.status_code == 200, (actor, one.text)
        assert one.json() == unit
        assert [u["id"] for u in listed.json()["items"]] == [unit["id"]]


async def test_units_list_filters_by_provider_and_pages(
    placements_service: RunningService,
) -> None:
    mine = [(await create_unit(placements_service))["id"] for _ in range(3)]
    other = await create_unit(placements_service, OTHER_PROVIDER, name="Vårdcentral Väster")

    seen: list[str] = []
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"provider_id": str(REGION_ID), "limit": 2}
        if cursor:
            params["cursor"] = cursor
        page = (await placements_service.call(UNIVERSITY, "GET", "/units", params=params)).json()
        seen += [u["id"] for u in page["items"]]
        cursor = page.get("next_cursor")
        if cursor is None:
            break
    everything = await placements_service.call(UNIVERSITY, "GET", "/units")
    theirs = await placements_service.call(
        UNIVERSITY, "GET", "/units", params={"provider_id": str(OTHER_REGION_ID)}
    )
    tampered = await placements_service.call(UNIVERSITY, "GET", "/units", params={"cursor": "x"})

    assert seen == mine
    assert [u["id"] for u in everything.json()["items"]] == [*mine, other["id"]]
    assert [u["id"] for u in theirs.json()["items"]] == [other["id"]]
    problem(tampered, 400, "invalid_cursor")


BAD_UNITS: list[tuple[dict[str, Any], list[Any], str]] = [
    ({"municipality_code": "9999"}, ["municipality_code"], "unknown_municipality"),
    ({"municipality_code": "Halmstad"}, ["municipality_code"], "unknown_municipality"),
    ({"hsa_id": "SE2321000017-1"}, ["hsa_id"], "invalid_hsa_id"),  # wrong check digit
    ({"hsa_id": "SE2321000016-" + "A" * 20}, ["hsa_id"], "string_too_long"),
    ({"care_setting": "spa"}, ["care_setting"], "literal_error"),
    ({"longitude": None}, ["longitude"], "coordinates_incomplete"),
    ({"latitude": None}, ["longitude"], "coordinates_incomplete"),
    ({"latitude": 91.0}, ["latitude"], "less_than_equal"),
    ({"longitude": -180.5}, ["longitude"], "greater_than_equal"),
    ({"name": "  "}, ["name"], "string_too_short"),
    ({"special_requirements": ["x" * 101]}, ["special_requirements", 0], "string_too_long"),
    ({"colour": "blue"}, ["colour"], "extra_forbidden"),
]


async def test_bad_unit_input_is_refused_and_nothing_stored(
    placements_service: RunningService,
) -> None:
    for overrides, loc, error_type in BAD_UNITS:
        response = await placements_service.call(
            PROVIDER, "POST", "/units", json=unit_body(**overrides)
        )

        body = problem(response, 422, "validation_error")
        found = [(e["loc"], e["type"]) for e in body["errors"]]
        assert (["body", *loc], error_type) in found, (overrides, found)
    assert await count(placements_service, care_units) == 0


async def test_units_without_coordinates_are_fine(placements_service: RunningService) -> None:
    unit = await create_unit(placements_service, latitude=None, longitude=None)

    assert (unit["latitude"], unit["longitude"]) == (None, None)


async def test_an_hsa_id_belongs_to_one_unit(placements_service: RunningService) -> None:
    await create_unit(placements_service, hsa_id=HSA_ID)
    other = await create_unit(placements_service, OTHER_PROVIDER, hsa_id="SE2321000016-9ZZ")

    duplicate = await placements_service.call(
        PROVIDER, "POST", "/units", json=unit_body(hsa_id=HSA_ID)
    )
    taken = await placements_service.call(
        OTHER_PROVIDER, "PATCH", f"/units/{other['id']}", json={"hsa_id": HSA_ID}
    )

    problem(duplicate, 409, "hsa_id_taken")
    problem(taken, 409, "hsa_id_taken")
    assert await count(placements_service, care_units) == 2
    unchanged = await placements_service.call(OTHER_PROVIDER, "GET", f"/units/{other['id']}")
    assert unchanged.json()["hsa_id"] == "SE2321000016-9ZZ"


async def test_who_may_create_units(placements_service: RunningService) -> None:
    as_university = await placements_service.call(UNIVERSITY, "POST", "/units", json=unit_body())
    as_portal = await placements_service.call(PORTAL, "POST", "/units", json=unit_body())
    for_another = await placements_service.call(
        PROVIDER, "POST", "/units", json=unit_body(provider_id=str(OTHER_REGION_ID))
    )
    admin_unnamed = await placements_service.call(ADMIN, "POST", "/units", json=unit_body())
    for_itself = await placements_service.call(
        PROVIDER, "POST", "/units", json=unit_body(provider_id=str(REGION_ID))
    )
    admin_named = await placements_service.call(
        ADMIN, "POST", "/units", json=unit_body(provider_id=str(OTHER_REGION_ID))
    )

    problem(as_university, 403, "forbidden")
    problem(as_portal, 403, "forbidden")
    problem(for_another, 403, "not_owner")
    problem(admin_unnamed, 422, "provider_id_required")
    assert for_itself.status_code == 201
    assert admin_named.status_code == 201
    assert admin_named.json()["provider_id"] == str(OTHER_REGION_ID)
    assert await count(placements_service, care_units) == 2


async def test_only_the_owner_or_an_admin_changes_a_unit(
    placements_service: RunningService,
) -> None:
    unit = await create_unit(placements_service)
    path = f"/units/{unit['id']}"

    by_other = await placements_service.call(OTHER_PROVIDER, "PATCH", path, json={"rural": True})
    by_university = await placements_service.call(UNIVERSITY, "PATCH", path, json={"rural": True})
    by_admin = await placements_service.call(ADMIN, "PATCH", path, json={"rural": True})
    by_owner = await placements_service.call(
        PROVIDER, "PATCH", path, json={"name": "Avdelning 14", "special_requirements": []}
    )
    unknown = await placements_service.call(
        PROVIDER, "PATCH", f"/units/{uuid.uuid4()}", json={"rural": True}
    )
    missing = await placements_service.call(PROVIDER, "GET", f"/units/{uuid.uuid4()}")

    problem(by_other, 403, "not_owner")
    problem(by_university, 403, "forbidden")
    assert by_admin.json()["rural"] is True
    assert by_admin.json()["version"] == 2
    assert by_owner.json()["name"] == "Avdelning 14"
    assert by_owner.json()["special_requirements"] == []
    assert by_owner.json()["version"] == 3
    problem(unknown, 404, "unit_not_found")
    problem(missing, 404, "unit_not_found")


async def test_an_update_is_checked_against_the_stored_unit(
    placements_service: RunningService,
) -> None:
    unit = await create_unit(placements_service)
    path = f"/units/{unit['id']}"

    half_cleared = await placements_service.call(PROVIDER, "PATCH", path, json={"latitude": None})
    unknown_place = await placements_service.call(
        PROVIDER, "PATCH", path, json={"municipality_code": "0000"}
    )
    cleared = await placements_service.call(
        PROVIDER, "PATCH", path, json={"latitude": None, "longitude": None}
    )
    nothing = await placements_service.call(PROVIDER, "PATCH", path, json={"rural": False})

    field_error(half_cleared, "longitude", "coordinates_incomplete")
    field_error(unknown_place, "municipality_code", "unknown_municipality")
    assert (cleared.json()["latitude"], cleared.json()["version"]) == (None, 2)
    assert nothing.json()["version"] == 2  # no change, no new version


async def test_a_units_change_reaches_its_offers_and_announces_published_ones(
    placements_service: RunningService,
) -> None:
    unit = await create_unit(placements_service)
    draft = await placements_service.call(PROVIDER, "POST", "/offers", json=offer_body(unit["id"]))
    published = await placements_service.call(
        PROVIDER, "POST", "/offers", json=offer_body(unit["id"], publish=True)
    )
    assert (draft.status_code, published.status_code) == (201, 201)

    renamed = await placements_service.call(
        PROVIDER, "PATCH", f"/units/{unit['id']}", json={"name": "Ny avdelning"}
    )
    # A rename is no news for offers (the unit's own unit.changed is tested elsewhere).
    assert [e.type for e in await events(placements_service) if e.aggregatetype == "offer"] == [
        "vfu.placements.offer.published.v1"
    ]
    moved = await placements_service.call(
        PROVIDER,
        "PATCH",
        f"/units/{unit['id']}",
        json={
            "municipality_code": "1384",  # Kungsbacka: Halland too, but healthcare region Västra
            "care_setting": "primarvard",
            "rural": True,
            "latitude": 57.49,
            "longitude": 12.07,
        },
    )

    assert renamed.status_code == 200
    assert moved.json()["healthcare_region"] == "Västra"
    async with placements_service.db.read() as session:
        offers = {
            str(row["id"]): row
            for row in (await session.execute(select(capacity_offers))).mappings()
        }
    for offer in offers.values():
        assert (offer["municipality_code"], offer["county_code"]) == ("1384", "13")
        assert (offer["healthcare_region"], offer["care_setting"]) == ("Västra", "primarvard")
        assert (offer["rural"], offer["latitude"], offer["longitude"]) == (True, 57.49, 12.07)
        assert offer["version"] == 2
    updated = [e for e in await events(placements_service) if e.type.endswith("updated.v1")]
    assert [e.aggregateid for e in updated] == [published.json()["id"]]
    assert updated[0].aggregateversion == 2
    assert updated[0].data["municipality_code"] == "1384"
    assert updated[0].data["care_setting"] == "primarvard"
    read_back = await placements_service.call(PROVIDER, "GET", f"/offers/{draft.json()['id']}")
    assert read_back.json()["healthcare_region"] == "Västra"


async def test_idempotency_key_replays_the_created_unit(
    placements_service: RunningService,
) -> None:
    headers = {"Idempotency-Key": "unit-import-42"}

    first = await placements_service.call(
        PROVIDER, "POST", "/units", json=unit_body(), headers=headers
    )
    replay = await placements_service.call(
        PROVIDER, "POST", "/units", json=unit_body(), headers=headers
    )
    other_body = await placements_service.call(
        PROVIDER, "POST", "/units", json=unit_body(name="Annan"), headers=headers
    )

    assert first.status_code == replay.status_code == 201
    assert replay.json() == first.json()
    assert replay.headers["idempotent-replayed"] == "true"
    problem(other_body, 422, "idempotency_key_reused")
    assert await count(placements_service, care_units) == 1
