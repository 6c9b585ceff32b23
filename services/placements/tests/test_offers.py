"""Capacity offers over HTTP on SQLite and PostgreSQL.

Creating (draft or published at once), reading as every kind of caller (drafts, partner
and open visibility), changing (drafts freely, published offers only in what bookings
can live with), the lifecycle draft → published → closed | withdrawn with its events and
aggregate versions, and the withdrawal cascade onto bookings written straight into the
bookings table. Refused requests leave nothing behind: rows and outbox are counted.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from placements.bookings.models import booking_students, bookings
from placements.bookings.transitions import CONFIRMED_STATUSES
from placements.offers.models import capacity_offers
from sqlalchemy import func, insert, select, update
from vfu_common.events.contracts import OfferV1
from vfu_common.events.envelope import Envelope
from vfu_common.messaging.tables import outbox
from vfu_common.utc import utcnow
from vfu_common.uuid7 import new_id

from services.placements.tests.conftest import (
    ADMIN,
    OTHER_PROVIDER,
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

PROBLEM = "application/problem+json"
COORDINATOR = Actor("coordinator", uuid.UUID("00000000-0000-7000-8000-000000000009"))
PARTNER_PORTAL = Actor("portal", UNIVERSITY_ID)
PUBLISHED = "vfu.placements.offer.published.v1"
UPDATED = "vfu.placements.offer.updated.v1"
CLOSED = "vfu.placements.offer.closed.v1"
WITHDRAWN = "vfu.placements.offer.withdrawn.v1"
CANCELLED = "vfu.placements.booking.cancelled.v1"


# --- helpers -------------------------------------------------------------------------------


def unit_body(**overrides: Any) -> dict[str, Any]:
    return {
        "name": "Avdelning 12",
        "municipality_code": "0380",
        "care_setting": "slutenvard",
        "latitude": 59.85,
        "longitude": 17.64,
    } | overrides


def offer_body(unit_id: str, **overrides: Any) -> dict[str, Any]:
    """Four one-to-one nursing places in autumn 2027."""
    return {
        "unit_id": unit_id,
        "programme_code": "sjukskoterskeprogrammet",
        "profession_code": "sjukskoterska",
        "level": "grundniva",
        "term": "2027-HT",
        "start_date": "2027-09-06",
        "end_date": "2027-10-15",
        "supervision_model": "one_to_one",
        "places": 4,
        "requirements": ["Swedish C1"],
    } | overrides


async def new_unit(service: RunningService, actor: Actor = PROVIDER) -> str:
    response = await service.call(actor, "POST", "/units", json=unit_body())
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def new_offer(service: RunningService, unit_id: str, **overrides: Any) -> dict[str, Any]:
    response = await service.call(
        PROVIDER, "POST", "/offers", json=offer_body(unit_id, **overrides)
    )
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def count(service: RunningService, table: Any) -> int:
    async with service.db.read() as session:
        return int(await session.scalar(select(func.count()).select_from(table)) or 0)


async def events(service: RunningService) -> list[Envelope]:
    async with service.db.read() as session:
        rows = (await session.execute(select(outbox.c.payload).order_by(outbox.c.seq))).scalars()
        found = [Envelope.from_bytes(payload) for payload in rows]
    # Units announce themselves too (unit.registered/changed, see test_units); not offer news.
    return [e for e in found if e.aggregatetype != "unit"]


async def offer_row(service: RunningService, offer_id: str) -> Any:
    async with service.db.read() as session:
        stmt = select(capacity_offers).where(capacity_offers.c.id == uuid.UUID(offer_id))
        return (await session.execute(stmt)).mappings().one()


def problem(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    body: dict[str, Any] = response.json()
    assert body["code"] == code, body
    return body


def field_errors(response: Any) -> list[tuple[list[Any], str]]:
    body = problem(response, 422, "validation_error")
    return [(e["loc"], e["type"]) for e in body["errors"]]


async def insert_booking(
    service: RunningService,
    offer: dict[str, Any],
    *,
    status: str,
    requested: int,
    confirmed: int = 0,
    students: int = 0,
) -> uuid.UUID:
    """A booking row as the bookings feature would leave it, and the offer's counters."""
    booking_id = new_id()
    now = utcnow()
    async with service.db.write() as session:
        await session.execute(
            insert(bookings).values(
                id=booking_id,
                offer_id=uuid.UUID(offer["id"]),
                unit_id=uuid.UUID(offer["unit_id"]),
                provider_id=uuid.UUID(offer["provider_id"]),
                university_id=UNIVERSITY_ID,
                programme_code=offer["programme_code"],
                profession_code=offer["profession_code"],
                course_code="VFU101",
                course_instance="HT27-1",
                term=offer["term"],
                start_date=date.fromisoformat(offer["start_date"]),
                end_date=date.fromisoformat(offer["end_date"]),
                supervision_model=offer["supervision_model"],
                requested_places=requested,
                confirmed_places=confirmed,
                status=status,
                created_by="test",
                version=1,
                created_at=now,
                updated_at=now,
            )
        )
        if students:
            await session.execute(
                insert(booking_students),
                [
                    {"booking_id": booking_id, "student_id": f"pseudo-{i}", "added_at": now}
                    for i in range(students)
                ],
            )
        held = requested if status == "requested" else 0
        taken = confirmed if status in CONFIRMED_STATUSES else 0
        await session.execute(
            update(capacity_offers)
            .where(capacity_offers.c.id == uuid.UUID(offer["id"]))
            .values(
                held_places=capacity_offers.c.held_places + held,
                confirmed_places=capacity_offers.c.confirmed_places + taken,
            )
        )
    return booking_id


async def booking_rows(service: RunningService) -> dict[uuid.UUID, Any]:
    async with service.db.read() as session:
        return {r["id"]: r for r in (await session.execute(select(bookings))).mappings()}


# --- creating ------------------------------------------------------------------------------


async def test_provider_creates_a_draft_and_publishes_it(
    placements_service: RunningService,
) -> None:
    unit_id = await new_unit(placements_service)

    draft = await new_offer(placements_service, unit_id)
    assert await events(placements_service) == []  # a draft is private: no event
    published = await placements_service.call(PROVIDER, "POST", f"/offers/{draft['id']}/publish")

    assert draft["status"] == "draft"
    assert (draft["provider_id"], draft["unit_id"]) == (str(REGION_ID), unit_id)
    assert (draft["places"], draft["held_places"], draft["confirmed_places"]) == (4, 0, 0)
    assert (draft["free_places"], draft["version"]) == (4, 1)
    assert (draft["visibility"], draft["auto_confirm"]) == ("partners", False)
    assert draft["requirements"] == ["Swedish C1"]
    assert draft["published_at"] is None
    assert (draft["municipality_code"], draft["county_code"]) == ("0380", "03")
    assert (draft["healthcare_region"], draft["care_setting"]) == ("Mellansverige", "slutenvard")
    assert published.status_code == 200, published.text
    assert (published.json()["status"], published.json()["version"]) == ("published", 2)
    assert published.json()["published_at"] is not None
    (event,) = await events(placements_service)
    assert (event.type, event.aggregateid, event.aggregateversion) == (
        PUBLISHED,
        draft["id"],
        2,
    )
    assert event.aggregatetype == "offer"
    payload = OfferV1.model_validate(event.data)
    assert (payload.status, payload.places, payload.free_places) == ("published", 4, 4)
    assert (payload.municipality_code, payload.care_setting) == ("0380", "slutenvard")
    assert payload.programme_code == "sjukskoterskeprogrammet"


async def test_publish_at_once_announces_version_one(placements_service: RunningService) -> None:
    unit_id = await new_unit(placements_service)

    offer = await new_offer(
        placements_service, unit_id, publish=True, visibility="all", auto_confirm=True
    )

    assert (offer["status"], offer["version"], offer["auto_confirm"]) == ("published", 1, True)
    (event,) = await events(placements_service)
    assert (event.type, event.aggregateversion) == (PUBLISHED, 1)
    assert event.data["visibility"] == "all"


BAD_OFFERS: list[tuple[dict[str, Any], list[Any], str]] = [
    ({"start_date": "2027-07-20"}, ["start_date"], "dates_outside_term"),
    ({"end_date": "2028-02-03"}, ["end_date"], "dates_outside_term"),
    ({"term": "2028-VT"}, ["start_date"], "dates_outside_term"),
    ({"end_date": "2027-09-01"}, ["end_date"], "end_before_start"),
    ({"places": 0}, ["places"], "greater_than"),
    ({"places": -3}, ["places"], "greater_than"),
    ({"places": 3, "supervision_model": "peer_2_to_1"}, ["places"], "odd_places_for_peer_model"),
    ({"profession_code": "astrolog"}, ["profession_code"], "unknown_profession"),
    ({"level": "forskarniva"}, ["level"], "literal_error"),
    ({"supervision_model": "solo"}, ["supervision_model"], "literal_error"),
    ({"visibility": "friends"}, ["visibility"], "literal_error"),
    ({"term": "2027-ST"}, ["term"], "string_pattern_mismatch"),
    ({"programme_code": "Sjuksköterska!"}, ["programme_code"], "string_pattern_mismatch"),
    ({"requirements": [""]}, ["requirements", 0], "string_too_short"),
    ({"release_on": "2027-09-07"}, ["release_on"], "release_after_start"),
    ({"colour": "blue"}, ["colour"], "extra_forbidden"),
]


async def test_bad_offer_input_is_refused_and_nothing_stored(
    placements_service: RunningService,
) -> None:
    unit_id = await new_unit(placements_service)

    for overrides, loc, error_type in BAD_OFFERS:
        response = await placements_service.call(
            PROVIDER, "POST", "/offers", json=offer_body(unit_id, publish=True, **overrides)
        )

        assert (["body", *loc], error_type) in field_errors(response), overrides
    assert await count(placements_service, capacity_offers) == 0
    assert await events(placements_service) == []


async def test_even_peer_places_and_a_term_spanning_new_year_are_fine(
    placements_service: RunningService,
) -> None:
    unit_id = await new_unit(placements_service)

    offer = await new_offer(
        placements_service,
        unit_id,
        supervision_model="peer_2_to_1",
        places=6,
        start_date="2028-01-10",
        end_date="2028-01-31",
        programme_code=None,
    )

    assert (offer["places"], offer["programme_code"]) == (6, None)


async def test_offers_only_on_own_units(placements_service: RunningService) -> None:
    unit_id = await new_unit(placements_service)
    missing = str(uuid.uuid4())

    by_other = await placements_service.call(
        OTHER_PROVIDER, "POST", "/offers", json=offer_body(unit_id)
    )
    by_university = await placements_service.call(
        UNIVERSITY, "POST", "/offers", json=offer_body(unit_id)
    )
    by_portal = await placements_service.call(PORTAL, "POST", "/offers", json=offer_body(unit_id))
    on_nothing = await placements_service.call(
        PROVIDER, "POST", "/offers", json=offer_body(missing)
    )
    by_admin = await placements_service.call(ADMIN, "POST", "/offers", json=offer_body(unit_id))

    problem(by_other, 403, "not_owner")
    problem(by_university, 403, "forbidden")
    problem(by_portal, 403, "forbidden")
    problem(on_nothing, 404, "unit_not_found")
    assert by_admin.status_code == 201
    assert by_admin.json()["provider_id"] == str(REGION_ID)  # the unit's provider
    assert await count(placements_service, capacity_offers) == 1


# --- reading -------------------------------------------------------------------------------


async def test_who_sees_which_offer(placements_service: RunningService) -> None:
    await project_agreement(placements_service.db, agreement_terms())  # UNIVERSITY ↔ REGION
    unit_id = await new_unit(placements_service)
    draft = (await new_offer(placements_service, unit_id))["id"]
    partners = (await new_offer(placements_service, unit_id, publish=True))["id"]
    everyone = (await new_offer(placements_service, unit_id, publish=True, visibility="all"))["id"]
    ids = {draft, partners, everyone}
    expected = {
        PROVIDER: ids,
        ADMIN: ids,
        COORDINATOR: {partners, everyone},
        UNIVERSITY: {partners, everyone},
        PARTNER_PORTAL: {partners, everyone},
        OTHER_UNIVERSITY: {everyone},
        OTHER_PROVIDER: {everyone},
        PORTAL: {everyone},
    }

    for actor, visible in expected.items():
        listed = await placements_service.call(actor, "GET", "/offers")
        assert {o["id"] for o in listed.json()["items"]} == visible, actor
        for offer_id in ids:
            one = await placements_service.call(actor, "GET", f"/offers/{offer_id}")
            if offer_id in visible:
                assert one.status_code == 200, (actor, one.text)
            else:
                problem(one, 404, "offer_not_found")


async def test_partners_are_those_with_a_live_agreement(
    placements_service: RunningService,
) -> None:
    terms = agreement_terms()
    await project_agreement(placements_service.db, terms)
    unit_id = await new_unit(placements_service)
    offer_id = (await new_offer(placements_service, unit_id, publish=True))["id"]
    assert (await placements_service.call(UNIVERSITY, "GET", f"/offers/{offer_id}")).is_success

    await project_agreement(
        placements_service.db, terms.model_copy(update={"status": "terminated"}), version=2
    )

    problem(
        await placements_service.call(UNIVERSITY, "GET", f"/offers/{offer_id}"),
        404,
        "offer_not_found",
    )


async def test_offer_list_filters_and_pages(placements_service: RunningService) -> None:
    unit_a = await new_unit(placements_service)
    unit_b = await new_unit(placements_service)
    autumn = [(await new_offer(placements_service, unit_a, publish=True))["id"] for _ in range(3)]
    spring = await new_offer(
        placements_service,
        unit_b,
        term="2028-VT",
        start_date="2028-02-01",
        end_date="2028-03-01",
    )
    other_unit = await new_unit(placements_service, OTHER_PROVIDER)
    theirs = await placements_service.call(
        OTHER_PROVIDER, "POST", "/offers", json=offer_body(other_unit, visibility="all")
    )
    assert theirs.status_code == 201

    async def ids(**params: Any) -> list[str]:
        response = await placements_service.call(PROVIDER, "GET", "/offers", params=params)
        assert response.status_code == 200, response.text
        return [o["id"] for o in response.json()["items"]]

    pages: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = (await placements_service.call(PROVIDER, "GET", "/offers", params=params)).json()
        pages += [o["id"] for o in page["items"]]
        if (cursor := page.get("next_cursor")) is None:
            break

    assert pages == [*autumn, spring["id"]]  # the other provider's draft is invisible
    assert await ids(status="draft") == [spring["id"]]
    assert await ids(status="published") == autumn
    assert await ids(term="2028-VT") == [spring["id"]]
    assert await ids(unit_id=unit_a) == autumn
    assert await ids(provider_id=str(REGION_ID), status="published") == autumn
    bad_term = await placements_service.call(PROVIDER, "GET", "/offers", params={"term": "2028"})
    bad_status = await placements_service.call(
        PROVIDER, "GET", "/offers", params={"status": "open"}
    )
    assert bad_term.status_code == bad_status.status_code == 422


# --- changing ------------------------------------------------------------------------------


async def test_a_draft_changes_every_field_checked_as_a_whole(
    placements_service: RunningService,
) -> None:
    unit_id = await new_unit(placements_service)
    other_unit = await new_unit(placements_service)
    offer = await new_offer(placements_service, unit_id)
    path = f"/offers/{offer['id']}"

    changed = await placements_service.call(
        PROVIDER,
        "PATCH",
        path,
        json={
            "unit_id": other_unit,
            "term": "2028-VT",
            "start_date": "2028-03-06",
            "end_date": "2028-04-14",
            "supervision_model": "peer_2_to_1",
            "places": 2,
            "level": "avancerad_niva",
            "programme_code": None,
        },
    )
    term_only = await placements_service.call(PROVIDER, "PATCH", path, json={"term": "2027-HT"})
    end_first = await placements_service.call(
        PROVIDER, "PATCH", path, json={"end_date": "2028-03-01"}
    )
    odd = await placements_service.call(PROVIDER, "PATCH", path, json={"places": 3})
    foreign_unit = await placements_service.call(
        PROVIDER,
        "PATCH",
        path,
        json={"unit_id": await new_unit(placements_service, OTHER_PROVIDER)},
    )

    assert changed.status_code == 200, changed.text
    body = changed.json()
    assert (body["unit_id"], body["term"], body["places"]) == (other_unit, "2028-VT", 2)
    assert (body["programme_code"], body["version"]) == (None, 2)
    assert (["body", "start_date"], "dates_outside_term") in field_errors(term_only)
    assert (["body", "end_date"], "end_before_start") in field_errors(end_first)
    assert (["body", "places"], "odd_places_for_peer_model") in field_errors(odd)
    problem(foreign_unit, 403, "not_owner")
    assert (await offer_row(placements_service, offer["id"]))["version"] == 2
    assert await events(placements_service) == []  # drafts change privately


async def test_a_published_offer_changes_only_what_bookings_can_live_with(
    placements_service: RunningService,
) -> None:
    unit_id = await new_unit(placements_service)
    offer = await new_offer(placements_service, unit_id, publish=True, places=6)
    path = f"/offers/{offer['id']}"
    await insert_booking(placements_service, offer, status="requested", requested=2)
    await insert_booking(placements_service, offer, status="confirmed", requested=2, confirmed=2)

    below = await placements_service.call(PROVIDER, "PATCH", path, json={"places": 3})
    dates = await placements_service.call(
        PROVIDER, "PATCH", path, json={"start_date": "2027-09-13", "places": 8}
    )
    same_dates = await placements_service.call(
        PROVIDER,
        "PATCH",
        path,
        json={"start_date": offer["start_date"], "places": 4, "visibility": "all"},
    )
    more = await placements_service.call(
        PROVIDER, "PATCH", path, json={"requirements": [], "auto_confirm": True}
    )

    problem(below, 409, "places_below_booked")
    problem(dates, 409, "offer_field_not_editable")
    assert same_dates.status_code == 200, same_dates.text
    assert (same_dates.json()["places"], same_dates.json()["free_places"]) == (4, 0)
    assert (same_dates.json()["visibility"], same_dates.json()["version"]) == ("all", 2)
    assert (more.json()["requirements"], more.json()["auto_confirm"]) == ([], True)
    updates = [e for e in await events(placements_service) if e.type == UPDATED]
    assert [(e.aggregateversion, e.data["places"]) for e in updates] == [(2, 4), (3, 4)]
    assert updates[0].data["free_places"] == 0
    assert updates[0].data["held_places"] == updates[0].data["confirmed_places"] == 2


async def test_closed_and_withdrawn_offers_are_history(
    placements_service: RunningService,
) -> None:
    unit_id = await new_unit(placements_service)
    closed = await new_offer(placements_service, unit_id, publish=True)
    withdrawn = await new_offer(placements_service, unit_id)
    assert (
        await placements_service.call(PROVIDER, "POST", f"/offers/{closed['id']}/close")
    ).is_success
    assert (
        await placements_service.call(PROVIDER, "POST", f"/offers/{withdrawn['id']}/withdraw")
    ).is_success
    before = len(await events(placements_service))

    for offer in (closed, withdrawn):
        response = await placements_service.call(
            PROVIDER, "PATCH", f"/offers/{offer['id']}", json={"places": 6}
        )
        problem(response, 409, "offer_not_editable")
    assert len(await events(placements_service)) == before
    assert (await offer_row(placements_service, closed["id"]))["places"] == 4


async def test_others_may_not_change_an_offer(placements_service: RunningService) -> None:
    unit_id = await new_unit(placements_service)
    visible = await new_offer(placements_service, unit_id, publish=True, visibility="all")
    draft = await new_offer(placements_service, unit_id)

    for action in ("PATCH", "publish", "close", "withdraw"):
        for offer, status, code in ((visible, 403, "not_owner"), (draft, 404, "offer_not_found")):
            if action == "PATCH":
                response = await placements_service.call(
                    OTHER_PROVIDER, "PATCH", f"/offers/{offer['id']}", json={"places": 2}
                )
            else:
                response = await placements_service.call(
                    OTHER_PROVIDER, "POST", f"/offers/{offer['id']}/{action}"
                )
            problem(response, status, code)
        as_university = await placements_service.call(
            UNIVERSITY, "POST", f"/offers/{visible['id']}/close"
        )
        problem(as_university, 403, "forbidden")
    admin = await placements_service.call(ADMIN, "POST", f"/offers/{visible['id']}/close")
    assert admin.json()["status"] == "closed"
    assert (await offer_row(placements_service, draft["id"]))["version"] == 1


# --- lifecycle -----------------------------------------------------------------------------


async def test_lifecycle_transitions_and_their_events(placements_service: RunningService) -> None:
    unit_id = await new_unit(placements_service)
    offer = await new_offer(placements_service, unit_id)
    path = f"/offers/{offer['id']}"

    async def act(action: str) -> Any:
        return await placements_service.call(PROVIDER, "POST", f"{path}/{action}")

    close_draft = await act("close")
    assert (await act("publish")).json()["status"] == "published"
    republish = await act("publish")
    assert (await act("close")).json()["status"] == "closed"
    reopen = await act("publish")
    withdrawn = await placements_service.call(
        PROVIDER, "POST", f"{path}/withdraw", json={"reason": "Ward closes for renovation"}
    )
    again = await act("withdraw")
    unknown = await placements_service.call(PROVIDER, "POST", f"/offers/{uuid.uuid4()}/close")

    assert "draft" in problem(close_draft, 409, "invalid_offer_transition")["detail"]
    assert "published" in problem(republish, 409, "invalid_offer_transition")["detail"]
    assert "closed" in problem(reopen, 409, "invalid_offer_transition")["detail"]
    assert withdrawn.json()["status"] == "withdrawn"
    assert "withdrawn" in problem(again, 409, "invalid_offer_transition")["detail"]
    problem(unknown, 404, "offer_not_found")
    seen = [
        (e.type, e.aggregateversion, e.data["status"]) for e in await events(placements_service)
    ]
    assert seen == [
        (PUBLISHED, 2, "published"),
        (CLOSED, 3, "closed"),
        (WITHDRAWN, 4, "withdrawn"),
    ]


async def test_a_draft_may_be_withdrawn_unpublished(placements_service: RunningService) -> None:
    unit_id = await new_unit(placements_service)
    offer = await new_offer(placements_service, unit_id)

    response = await placements_service.call(PROVIDER, "POST", f"/offers/{offer['id']}/withdraw")

    assert response.status_code == 200, response.text
    assert (response.json()["status"], response.json()["published_at"]) == ("withdrawn", None)
    (event,) = await events(placements_service)
    assert (event.type, event.data["cancelled_booking_ids"]) == (WITHDRAWN, [])


async def test_withdrawal_cancels_open_bookings_and_announces_each(
    placements_service: RunningService,
) -> None:
    unit_id = await new_unit(placements_service)
    offer = await new_offer(placements_service, unit_id, publish=True, places=10)
    requested = await insert_booking(placements_service, offer, status="requested", requested=2)
    confirmed = await insert_booking(
        placements_service, offer, status="confirmed", requested=3, confirmed=2, students=2
    )
    completed = await insert_booking(
        placements_service, offer, status="completed", requested=1, confirmed=1, students=1
    )
    declined = await insert_booking(placements_service, offer, status="declined", requested=1)
    assert (await offer_row(placements_service, offer["id"]))["held_places"] == 2

    response = await placements_service.call(
        PROVIDER,
        "POST",
        f"/offers/{offer['id']}/withdraw",
        json={"reason": "Ward closes for renovation"},
    )

    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["status"], body["held_places"], body["version"]) == ("withdrawn", 0, 2)
    assert body["confirmed_places"] == 1  # the completed placement keeps its place
    rows = await booking_rows(placements_service)
    for booking_id in (requested, confirmed):
        row = rows[booking_id]
        assert (row["status"], row["reason"]) == ("cancelled", "offer_withdrawn")
        assert row["reason_detail"] == "Ward closes for renovation"
        assert row["cancelled_by_organisation_id"] == REGION_ID
        assert row["version"] == 2
    assert (rows[completed]["status"], rows[completed]["version"]) == ("completed", 1)
    assert (rows[declined]["status"], rows[declined]["version"]) == ("declined", 1)
    emitted = [e for e in await events(placements_service) if e.type != PUBLISHED]
    assert [e.type for e in emitted] == [CANCELLED, CANCELLED, WITHDRAWN]
    cancelled = {uuid.UUID(e.aggregateid): e for e in emitted[:2]}
    assert set(cancelled) == {requested, confirmed}
    for event in cancelled.values():
        assert event.aggregateversion == 2
        assert (event.data["status"], event.data["reason"]) == ("cancelled", "offer_withdrawn")
        assert event.data["offer_id"] == offer["id"]
        assert event.data["university_id"] == str(UNIVERSITY_ID)
        assert event.data["cancelled_by_organisation_id"] == str(REGION_ID)
        assert event.data["course_code"] == "VFU101"
    assert cancelled[confirmed].data["student_count"] == 2
    assert cancelled[confirmed].data["confirmed_places"] == 2
    assert cancelled[requested].data["student_count"] == 0
    withdrawn = emitted[2]
    assert withdrawn.aggregateversion == 2
    assert set(withdrawn.data["cancelled_booking_ids"]) == {str(requested), str(confirmed)}
    assert (withdrawn.data["held_places"], withdrawn.data["status"]) == (0, "withdrawn")


async def test_withdrawal_with_placements_in_progress_changes_nothing(
    placements_service: RunningService,
) -> None:
    unit_id = await new_unit(placements_service)
    offer = await new_offer(placements_service, unit_id, publish=True, places=10)
    requested = await insert_booking(placements_service, offer, status="requested", requested=2)
    await insert_booking(
        placements_service, offer, status="in_progress", requested=2, confirmed=2, students=2
    )
    before = len(await events(placements_service))

    response = await placements_service.call(PROVIDER, "POST", f"/offers/{offer['id']}/withdraw")

    problem(response, 409, "placements_in_progress")
    row = await offer_row(placements_service, offer["id"])
    assert (row["status"], row["held_places"], row["confirmed_places"]) == ("published", 2, 2)
    assert row["version"] == 1
    assert (await booking_rows(placements_service))[requested]["status"] == "requested"
    assert len(await events(placements_service)) == before


async def test_idempotency_key_replays_the_created_offer(
    placements_service: RunningService,
) -> None:
    unit_id = await new_unit(placements_service)
    headers = {"Idempotency-Key": "offer-1"}
    body = offer_body(unit_id, publish=True)

    first = await placements_service.call(PROVIDER, "POST", "/offers", json=body, headers=headers)
    replay = await placements_service.call(PROVIDER, "POST", "/offers", json=body, headers=headers)

    assert first.status_code == replay.status_code == 201
    assert replay.json()["id"] == first.json()["id"]
    assert await count(placements_service, capacity_offers) == 1
    assert len(await events(placements_service)) == 1
