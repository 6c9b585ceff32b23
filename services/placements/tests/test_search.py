"""The portal search through HTTP, on SQLite and PostgreSQL.

Units and offers are written with Core inserts (``insert_unit``/``insert_offer``), not
through the offers API, so these tests pin the search alone: each filter in and out,
who sees partner-only offers, distances with known coordinates, every sort order paged
through without duplicates or gaps, ETag/304, and the exact set of response keys.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from placements.offers.models import capacity_offers
from placements.search.geo import haversine_km
from placements.search.schemas import SearchPage, SearchParams
from placements.units.models import care_units
from sqlalchemy import event, insert, update
from vfu_common.db import Database
from vfu_common.logging import current_request_id
from vfu_domain.organisation_projection import organisations
from vfu_testing.placements_rows import offer_row, unit_row

from services.placements.tests.conftest import (
    ADMIN,
    OTHER_PROVIDER,
    OTHER_REGION_ID,
    OTHER_UNIVERSITY,
    PORTAL,
    PROVIDER,
    REGION_ID,
    UNIVERSITY,
    UNIVERSITY_ID,
    Actor,
    RunningService,
    agreement_terms,
    project_agreement,
)

SEARCH = "/search/offers"
UPPSALA = (59.8586, 17.6389)
STOCKHOLM = (59.3293, 18.0686)
GOTHENBURG = (57.7089, 11.9746)
COORDINATOR = Actor("coordinator", uuid.UUID("00000000-0000-7000-8000-000000000009"))
UNIVERSITY_PORTAL = Actor("portal", UNIVERSITY_ID)

ITEM_KEYS = {
    "id",
    "unit_id",
    "unit_name",
    "provider_id",
    "provider_name",
    "municipality_code",
    "municipality_name",
    "county_code",
    "healthcare_region",
    "care_setting",
    "rural",
    "vulnerable_area",
    "latitude",
    "longitude",
    "programme_code",
    "profession_code",
    "level",
    "term",
    "start_date",
    "end_date",
    "supervision_model",
    "visibility",
    "requirements",
    "unit_requirements",
    "free_places",
    "published_at",
    "distance_km",
}


# --------------------------------------------------------------------------- data


async def insert_unit(
    db: Database,
    *,
    provider_id: uuid.UUID = REGION_ID,
    municipality_code: str = "0380",
    care_setting: str = "slutenvard",
    point: tuple[float, float] | None = UPPSALA,
    rural: bool = False,
    vulnerable_area: bool = False,
    name: str = "Avdelning 1",
) -> dict[str, Any]:
    """A care unit row; its location is derived from the municipality as the units API does."""
    row = unit_row(
        provider_id,
        municipality_code=municipality_code,
        name=name,
        care_setting=care_setting,
        latitude=point[0] if point else None,
        longitude=point[1] if point else None,
        rural=rural,
        vulnerable_area=vulnerable_area,
        special_requirements=json.dumps(["utdrag ur belastningsregistret"]),
    )
    async with db.write() as session:
        await session.execute(insert(care_units).values(**row))
    return row


async def insert_offer(db: Database, unit: dict[str, Any], **overrides: Any) -> uuid.UUID:
    """A published, everyone-visible offer on ``unit`` (location copied as the offers API does)."""
    row = offer_row(
        unit,
        **{
            "end_date": date(2027, 10, 15),
            "places": 4,
            "requirements": json.dumps(["svenska B2"]),
            **overrides,
        },
    )
    async with db.write() as session:
        await session.execute(insert(capacity_offers).values(**row))
    return uuid.UUID(str(row["id"]))


async def search(
    service: RunningService, actor: Actor, expect: int = 200, **params: Any
) -> dict[str, Any]:
    response = await service.call(actor, "GET", SEARCH, params=params)
    assert response.status_code == expect, response.text
    return dict(response.json())


async def found(service: RunningService, actor: Actor, **params: Any) -> set[uuid.UUID]:
    """Ids of every offer the search lists, following next_cursor to the end."""
    ids: list[uuid.UUID] = []
    cursor = None
    while True:
        page = await search(
            service, actor, limit=200, **params, **({"cursor": cursor} if cursor else {})
        )
        ids += [uuid.UUID(item["id"]) for item in page["items"]]
        cursor = page.get("next_cursor")
        if cursor is None:
            assert len(ids) == len(set(ids))
            return set(ids)


# --------------------------------------------------------------------------- filters

FILTER_CASES: list[tuple[str, Any, dict[str, Any], dict[str, Any], dict[str, Any]]] = [
    # (parameter, value, unit of the matching offer, matching offer, non-matching offer)
    ("programme_code", "lakarprogrammet", {}, {"programme_code": "lakarprogrammet"}, {}),
    ("profession_code", "lakare", {}, {"profession_code": "lakare"}, {}),
    (
        "term",
        "2028-VT",
        {},
        {"term": "2028-VT", "start_date": date(2028, 2, 1), "end_date": date(2028, 3, 1)},
        {},
    ),
    (  # inclusive lower bound
        "starts_on_or_after",
        "2027-09-06",
        {},
        {},
        {"start_date": date(2027, 9, 5)},
    ),
    (  # inclusive upper bound
        "ends_on_or_before",
        "2027-10-15",
        {},
        {},
        {"end_date": date(2027, 10, 16)},
    ),
    ("county_code", "01", {"municipality_code": "0180"}, {}, {}),
    ("municipality_code", "0381", {"municipality_code": "0381"}, {}, {}),
    ("healthcare_region", "Västra", {"municipality_code": "1480"}, {}, {}),
    ("care_setting", "primarvard", {"care_setting": "primarvard"}, {}, {}),
    ("supervision_model", "group", {}, {"supervision_model": "group"}, {}),
    ("level", "avancerad_niva", {}, {"level": "avancerad_niva"}, {}),
    ("rural", "true", {"rural": True}, {}, {}),
    ("vulnerable_area", "true", {"vulnerable_area": True}, {}, {}),
    ("min_free_places", "3", {}, {"places": 6, "held_places": 2, "confirmed_places": 1}, {}),
]


async def test_each_filter_lists_matching_offers_and_leaves_out_the_rest(
    placements_service: RunningService,
) -> None:
    db = placements_service.db
    default_unit = await insert_unit(db)
    # Defaults: municipality 0380 (county 03, Mellansverige), slutenvård, not rural or
    # vulnerable, free places 4 minus 2 held = 2, so min_free_places=3 leaves it out.
    for name, value, unit_fields, matching, other in FILTER_CASES:
        unit = await insert_unit(db, **unit_fields) if unit_fields else default_unit
        inside = await insert_offer(db, unit, **matching)
        outside = await insert_offer(db, default_unit, **({"held_places": 2} | other))
        pair = {inside, outside}
        assert await found(placements_service, PORTAL) >= pair, name
        assert (await found(placements_service, PORTAL, **{name: value})) & pair == {inside}, name

    # The boolean flags also select the opposite way.
    flagged = await insert_offer(db, await insert_unit(db, rural=True, vulnerable_area=True))
    plain = await insert_offer(db, default_unit)
    for flag in ("rural", "vulnerable_area"):
        listed = await found(placements_service, PORTAL, **{flag: "false"})
        assert plain in listed
        assert flagged not in listed


async def test_date_window_lists_offers_lying_inside_it(
    placements_service: RunningService,
) -> None:
    unit = await insert_unit(placements_service.db)
    inside = await insert_offer(
        placements_service.db, unit, start_date=date(2027, 9, 1), end_date=date(2027, 9, 30)
    )
    overlapping = await insert_offer(
        placements_service.db, unit, start_date=date(2027, 9, 20), end_date=date(2027, 10, 20)
    )
    window = {"starts_on_or_after": "2027-09-01", "ends_on_or_before": "2027-09-30"}
    assert await found(placements_service, PORTAL, **window) == {inside}
    assert await found(placements_service, PORTAL) == {inside, overlapping}


# --------------------------------------------------------------------------- visibility


async def test_partner_offers_are_listed_only_for_partners_owner_admin_and_coordinator(
    placements_service: RunningService,
) -> None:
    db = placements_service.db
    region_unit = await insert_unit(db)
    other_unit = await insert_unit(db, provider_id=OTHER_REGION_ID)
    public = await insert_offer(db, region_unit)
    partners = await insert_offer(db, region_unit, visibility="partners")
    other_partners = await insert_offer(db, other_unit, visibility="partners")
    terms = agreement_terms()  # UNIVERSITY with REGION, active
    await project_agreement(db, terms)

    expected = {
        UNIVERSITY: {public, partners},
        UNIVERSITY_PORTAL: {public, partners},
        OTHER_UNIVERSITY: {public},
        PORTAL: {public},  # a portal without an organisation sees offers for all only
        PROVIDER: {public, partners},
        OTHER_PROVIDER: {public, other_partners},
        ADMIN: {public, partners, other_partners},
        COORDINATOR: {public, partners, other_partners},
    }
    for actor, ids in expected.items():
        assert await found(placements_service, actor) == ids, actor

    # A terminated agreement no longer makes the university a partner.
    ended = agreement_terms(agreement_id=terms.agreement_id, status="terminated")
    await project_agreement(db, ended, version=2)
    assert await found(placements_service, UNIVERSITY) == {public}
    assert await found(placements_service, UNIVERSITY_PORTAL) == {public}


async def test_drafts_closed_withdrawn_and_full_offers_are_never_listed(
    placements_service: RunningService,
) -> None:
    db = placements_service.db
    unit = await insert_unit(db)
    listed = await insert_offer(db, unit, places=2, held_places=1)
    for hidden in (
        {"status": "draft"},
        {"status": "closed"},
        {"status": "withdrawn"},
        {"places": 2, "held_places": 2},
        {"places": 4, "held_places": 1, "confirmed_places": 3},
        {"places": 2, "confirmed_places": 2, "visibility": "partners"},
    ):
        await insert_offer(db, unit, **hidden)
    for actor in (ADMIN, PROVIDER, UNIVERSITY, PORTAL):
        assert await found(placements_service, actor) == {listed}
    page = await search(placements_service, PORTAL)
    assert page["items"][0]["free_places"] == 1


async def test_every_role_may_search(placements_service: RunningService) -> None:
    await insert_offer(placements_service.db, await insert_unit(placements_service.db))
    for actor in (PORTAL, UNIVERSITY, PROVIDER, COORDINATOR, ADMIN, Actor("system", None)):
        page = await search(placements_service, actor)
        assert len(page["items"]) == 1


async def test_a_call_without_identity_is_refused(placements_service: RunningService) -> None:
    response = await placements_service.client.get("/api/v1/placements" + SEARCH)
    assert response.status_code == 401


# --------------------------------------------------------------------------- distance


async def test_distance_filter_and_sort_with_known_coordinates(
    placements_service: RunningService,
) -> None:
    db = placements_service.db
    uppsala = await insert_offer(db, await insert_unit(db, point=UPPSALA))
    stockholm = await insert_offer(
        db, await insert_unit(db, municipality_code="0180", point=STOCKHOLM)
    )
    gothenburg = await insert_offer(
        db, await insert_unit(db, municipality_code="1480", point=GOTHENBURG)
    )
    await insert_offer(db, await insert_unit(db, point=None))  # no coordinates: never near
    near_uppsala = {"near_lat": UPPSALA[0], "near_lon": UPPSALA[1]}

    assert await found(placements_service, PORTAL, **near_uppsala, within_km=60) == {uppsala}
    page = await search(placements_service, PORTAL, **near_uppsala, within_km=70, sort="distance")
    assert [uuid.UUID(item["id"]) for item in page["items"]] == [uppsala, stockholm]
    distances = [item["distance_km"] for item in page["items"]]
    assert distances[0] == 0
    assert 63 < distances[1] < 65
    assert distances[1] == pytest.approx(haversine_km(*UPPSALA, *STOCKHOLM), abs=0.001)

    page = await search(
        placements_service,
        PORTAL,
        near_lat=STOCKHOLM[0],
        near_lon=STOCKHOLM[1],
        within_km=500,
        sort="distance",
    )
    assert [uuid.UUID(item["id"]) for item in page["items"]] == [stockholm, uppsala, gothenburg]
    assert 390 < page["items"][2]["distance_km"] < 400

    # Without a point there is no distance.
    page = await search(placements_service, PORTAL, municipality_code="0180")
    assert [item["distance_km"] for item in page["items"]] == [None]


@pytest.mark.parametrize(
    "params",
    [
        {"near_lat": 59.8, "near_lon": 17.6},
        {"near_lat": 59.8, "within_km": 10},
        {"within_km": 10},
        {"sort": "distance"},
        {"near_lat": 91, "near_lon": 17.6, "within_km": 10},
        {"near_lat": 59.8, "near_lon": 17.6, "within_km": 0},
        {"near_lat": 59.8, "near_lon": 17.6, "within_km": 5000},
    ],
)
async def test_incomplete_or_impossible_points_are_refused(
    placements_service: RunningService, params: dict[str, Any]
) -> None:
    body = await search(placements_service, PORTAL, expect=422, **params)
    assert body["code"] == "validation_error"


# --------------------------------------------------------------------------- sort and pages


def _expected_order(items: list[dict[str, Any]], sort: str) -> list[str]:
    field = sort.lstrip("-")
    key = {
        "start_date": lambda item: item["start_date"],
        "free_places": lambda item: item["free_places"],
        "distance": lambda item: item["distance_km"],
    }[field]
    ordered = sorted(items, key=lambda item: (key(item), uuid.UUID(item["id"])))
    if sort.startswith("-"):
        ordered.reverse()
    return [item["id"] for item in ordered]


@pytest.mark.parametrize(
    "sort", ["start_date", "-start_date", "free_places", "-free_places", "distance"]
)
async def test_sort_orders_page_through_without_duplicates_or_gaps(
    placements_service: RunningService, sort: str
) -> None:
    db = placements_service.db
    # Four units at three distances (two share a point), offers with repeated start dates
    # and free places, so ties are broken by id across page boundaries.
    points = [UPPSALA, UPPSALA, STOCKHOLM, (59.6, 17.9)]
    units = [await insert_unit(db, point=point) for point in points]
    ids = set()
    for n in range(23):
        ids.add(
            await insert_offer(
                db,
                units[n % len(units)],
                start_date=date(2027, 9, 1) + timedelta(days=7 * (n % 5)),
                end_date=date(2027, 12, 20),
                places=6,
                held_places=n % 3,
            )
        )
    point = {"near_lat": UPPSALA[0], "near_lon": UPPSALA[1], "within_km": 100}
    params = {"sort": sort, **point}

    everything = await search(placements_service, ADMIN, limit=200, **params)
    assert {uuid.UUID(item["id"]) for item in everything["items"]} == ids
    expected = _expected_order(everything["items"], sort)
    assert [item["id"] for item in everything["items"]] == expected
    assert everything.get("next_cursor") is None

    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        extra = {"cursor": cursor} if cursor else {}
        page = await search(placements_service, ADMIN, limit=4, **params, **extra)
        pages += 1
        assert len(page["items"]) <= 4
        seen += [item["id"] for item in page["items"]]
        cursor = page.get("next_cursor")
        if cursor is None:
            break
    assert pages == 6
    assert seen == expected


async def test_cursors_refuse_another_sort_or_tampering(
    placements_service: RunningService,
) -> None:
    unit = await insert_unit(placements_service.db)
    for _ in range(3):
        await insert_offer(placements_service.db, unit)
    page = await search(placements_service, PORTAL, limit=1)
    cursor = page["next_cursor"]
    assert cursor
    body = await search(placements_service, PORTAL, expect=400, cursor=cursor, sort="free_places")
    assert body["code"] == "invalid_cursor"
    for broken in ("not-a-cursor", cursor[:-3], "eyJzb3J0Ijoic3RhcnRfZGF0ZSJ9"):
        body = await search(placements_service, PORTAL, expect=400, cursor=broken)
        assert body["code"] == "invalid_cursor"


# --------------------------------------------------------------------------- ETag


async def test_etag_gives_304_until_free_places_change(
    placements_service: RunningService,
) -> None:
    db = placements_service.db
    unit = await insert_unit(db)
    offer = await insert_offer(db, unit)
    await insert_offer(db, unit)

    first = await placements_service.call(PORTAL, "GET", SEARCH)
    assert first.status_code == 200
    etag = first.headers["etag"]
    assert etag.startswith('"')
    assert etag.endswith('"')
    assert "must-revalidate" in first.headers["cache-control"]
    assert "private" in first.headers["cache-control"]

    for header in (etag, f"W/{etag}", f'"other", {etag}', "*"):
        again = await placements_service.call(
            PORTAL, "GET", SEARCH, headers={"If-None-Match": header}
        )
        assert again.status_code == 304, header
        assert again.content == b""
        assert again.headers["etag"] == etag

    stale = await placements_service.call(
        PORTAL, "GET", SEARCH, headers={"If-None-Match": '"something-else"'}
    )
    assert stale.status_code == 200

    # A booking request holds one place: the free places change, and so does the ETag.
    async with db.write() as session:
        await session.execute(
            update(capacity_offers).where(capacity_offers.c.id == offer).values(held_places=1)
        )
    changed = await placements_service.call(PORTAL, "GET", SEARCH, headers={"If-None-Match": etag})
    assert changed.status_code == 200
    assert changed.headers["etag"] != etag
    item = next(i for i in changed.json()["items"] if i["id"] == str(offer))
    assert item["free_places"] == 3

    # Each query has its own representation, so its own ETag.
    filtered = await placements_service.call(PORTAL, "GET", SEARCH, params={"level": "grundniva"})
    other = await placements_service.call(PORTAL, "GET", SEARCH, params={"level": "avancerad_niva"})
    assert filtered.headers["etag"] != other.headers["etag"]


# --------------------------------------------------------------------------- the response


async def test_items_carry_no_personal_or_booking_fields(
    placements_service: RunningService,
) -> None:
    unit = await insert_unit(placements_service.db, name="Akutmottagningen")
    offer = await insert_offer(
        placements_service.db, unit, places=6, held_places=2, confirmed_places=1
    )
    page = await search(placements_service, UNIVERSITY)
    assert set(page) == {"items", "next_cursor"}
    (item,) = page["items"]
    assert set(item) == ITEM_KEYS
    assert item["id"] == str(offer)
    assert item["unit_name"] == "Akutmottagningen"
    assert item["municipality_name"] == "Uppsala"
    assert item["county_code"] == "03"
    assert item["healthcare_region"] == "Mellansverige"
    assert item["free_places"] == 3
    assert item["requirements"] == ["svenska B2"]
    assert item["unit_requirements"] == ["utdrag ur belastningsregistret"]
    assert item["provider_name"] is None  # the provider is not in the projection

    schema = placements_service.app.openapi()
    properties = schema["components"]["schemas"]["OfferHit"]["properties"]
    assert set(properties) == ITEM_KEYS
    operation = schema["paths"]["/api/v1/placements" + SEARCH]["get"]
    documented = {p["name"] for p in operation["parameters"] if p["in"] == "query"}
    assert documented == set(SearchParams.model_fields)


async def test_the_page_is_what_its_documented_model_would_serialise(
    placements_service: RunningService,
) -> None:
    """The search writes its JSON from the rows without building OfferHit models (ADR 19):
    the bytes must still be exactly those of the documented SearchPage, with every kind of
    value present (a provider name, coordinates, a distance, nulls, a next_cursor)."""
    db = placements_service.db
    await project_agreement(db, agreement_terms())
    async with db.write() as session:
        await session.execute(
            insert(organisations).values(
                id=REGION_ID,
                organisation_number="2321000016",
                kind="region",
                name="Region Uppsala",
                municipality_code=None,
                aggregate_version=1,
                updated_at=datetime.now(UTC),
            )
        )
    for n, point in enumerate([UPPSALA, STOCKHOLM, None]):
        unit = await insert_unit(db, name=f"Avdelning {n}", point=point)
        await insert_offer(db, unit, programme_code=None if n == 2 else "sjukskoterskeprogrammet")
    searches = [
        {"limit": 2},
        {"near_lat": UPPSALA[0], "near_lon": UPPSALA[1], "within_km": 100, "sort": "distance"},
        {"sort": "-free_places"},
    ]
    for params in searches:
        response = await placements_service.call(UNIVERSITY, "GET", SEARCH, params=params)
        assert response.status_code == 200, response.text
        documented = SearchPage.model_validate_json(response.content)
        assert documented.items, params
        assert response.content == documented.model_dump_json().encode(), params
        assert any(item.provider_name == "Region Uppsala" for item in documented.items)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("care_setings", "primarvard"),  # a misspelt parameter
        ("student_id", "x"),
        ("care_setting", "spa"),
        ("county_code", "99"),
        ("county_code", "3"),
        ("municipality_code", "9999"),
        ("healthcare_region", "Narnia"),
        ("profession_code", "trollkarl"),
        ("supervision_model", "alone"),
        ("level", "forskarniva"),
        ("term", "2027-ST"),
        ("rural", "maybe"),
        ("min_free_places", "0"),
        ("sort", "name"),
        ("limit", "201"),
        ("starts_on_or_after", "next week"),
    ],
)
async def test_unknown_parameters_and_values_are_422_naming_the_field(
    placements_service: RunningService, name: str, value: str
) -> None:
    body = await search(placements_service, PORTAL, expect=422, **{name: value})
    assert body["code"] == "validation_error"
    assert any(error["loc"][-1] == name for error in body["errors"]), body


async def test_a_reversed_date_window_is_refused(placements_service: RunningService) -> None:
    body = await search(
        placements_service,
        PORTAL,
        expect=422,
        starts_on_or_after="2027-10-01",
        ends_on_or_before="2027-09-01",
    )
    assert "ends_on_or_before" in json.dumps(body)


MESSAGING_STATEMENT = re.compile(r"\b(FROM|UPDATE|INTO)\s+(outbox|inbox|leases)\b", re.IGNORECASE)


@pytest.fixture
async def statements(placements_service: RunningService) -> AsyncIterator[list[str]]:
    """The SQL statements the service's engines execute for requests while the test runs.

    The service's own workers (the outbox relay, the lease holders, the date-driven
    lifecycle's sweep) run statements at any moment, whatever the test does; theirs are
    not a request's, so only statements run with a request id in context are recorded.
    """
    runtime = placements_service.app.state.runtime
    seen: list[str] = []
    engines = set(runtime.db.sync_engines())

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if current_request_id() is not None and not MESSAGING_STATEMENT.search(statement):
            seen.append(statement)

    for engine in engines:
        event.listen(engine, "before_cursor_execute", record)
    yield seen
    for engine in engines:
        event.remove(engine, "before_cursor_execute", record)


async def test_a_page_is_one_select(
    placements_service: RunningService, statements: list[str]
) -> None:
    db = placements_service.db
    await project_agreement(db, agreement_terms())
    for n in range(12):
        unit = await insert_unit(db, name=f"Avdelning {n}")
        await insert_offer(db, unit, visibility="partners" if n % 2 else "all")
    statements.clear()
    page = await search(
        placements_service,
        UNIVERSITY,
        near_lat=UPPSALA[0],
        near_lon=UPPSALA[1],
        within_km=10,
        sort="distance",
        limit=10,
    )
    assert len(page["items"]) == 10
    selects = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    assert len(selects) == 1, statements
