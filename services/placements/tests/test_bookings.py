"""Bookings through HTTP on SQLite and PostgreSQL: every rule, refusal code and access rule.

The service runs for real (uvicorn, its lifespan, NATS); agreements reach its projection
through the projection's own handlers; units and offers are Core inserts. Every refusal
is checked to leave the database as it was (no booking, no student, no event, no place).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
from vfu_common.events.contracts import AGREEMENT_ACTIVATED, AgreementPartyV1
from vfu_testing.tokens import identity_headers

from services.placements.tests.booking_kit import (
    BOOKINGS,
    END,
    START,
    book,
    booking_row,
    count_rows,
    events,
    insert_offer,
    insert_unit,
    offer_counts,
    problem_code,
)
from services.placements.tests.conftest import (
    ADMIN,
    OTHER_PROVIDER,
    OTHER_UNIVERSITY,
    OTHER_UNIVERSITY_ID,
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

COORDINATOR = Actor("coordinator", uuid.UUID("00000000-0000-7000-8000-000000000009"))


@pytest.fixture
async def setup(placements_service: RunningService) -> dict[str, Any]:
    """An active agreement UNIVERSITY with REGION for nursing, a unit and a 10-place offer."""
    agreement = agreement_terms()
    await project_agreement(placements_service.db, agreement)
    unit = await insert_unit(placements_service.db)
    offer_id = await insert_offer(placements_service.db, unit)
    return {"agreement": agreement, "unit": unit, "offer_id": offer_id}


async def unchanged(service: RunningService, offer_id: uuid.UUID, before: dict[str, int]) -> None:
    """Nothing was written: same row counts, no place taken."""
    assert await count_rows(service.db) == before
    _, held, confirmed = await offer_counts(service.db, offer_id)
    assert (held, confirmed) == (0, 0)


# --------------------------------------------------------------------------- requesting


async def test_request_holds_places_and_announces_it(
    placements_service: RunningService, setup: dict[str, Any]
) -> None:
    offer_id = setup["offer_id"]
    response = await book(
        placements_service, UNIVERSITY, offer_id, places=3, student_ids=["s-1", "s_2"], note="Hi"
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["status"] == "requested"
    assert (body["requested_places"], body["confirmed_places"]) == (3, 0)
    assert body["university_id"] == str(UNIVERSITY_ID)
    assert body["provider_id"] == str(REGION_ID)
    assert body["agreement_id"] == str(setup["agreement"].agreement_id)
    assert body["student_ids"] == ["s-1", "s_2"]
    assert (body["start_date"], body["end_date"]) == (START.isoformat(), END.isoformat())
    assert body["note"] == "Hi"
    assert body["version"] == 1
    assert await offer_counts(placements_service.db, offer_id) == (10, 3, 0)

    (event,) = await events(placements_service.db, type_suffix="booking.requested.v1")
    assert event.aggregateid == body["id"]
    assert event.aggregateversion == 1
    assert event.data["student_count"] == 2
    assert event.data["requested_places"] == 3
    assert event.data["agreement_id"] == body["agreement_id"]
    assert "s-1" not in event.to_bytes().decode()  # student ids never leave the service

    stored = await placements_service.call(UNIVERSITY, "GET", f"{BOOKINGS}/{body['id']}")
    assert stored.json() == body


async def test_auto_confirm_offer_confirms_in_the_same_transaction(
    placements_service: RunningService, setup: dict[str, Any]
) -> None:
    offer_id = await insert_offer(placements_service.db, setup["unit"], auto_confirm=True)
    response = await book(placements_service, UNIVERSITY, offer_id, places=2)
    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["status"], body["confirmed_places"], body["version"]) == ("confirmed", 2, 2)
    assert await offer_counts(placements_service.db, offer_id) == (10, 0, 2)
    found = [e for e in await events(placements_service.db) if e.aggregateid == body["id"]]
    assert [(e.type.split(".")[3], e.aggregateversion, e.data["status"]) for e in found] == [
        ("requested", 1, "requested"),
        ("confirmed", 2, "confirmed"),
    ]


async def test_capacity_exceeded_names_the_free_places(
    placements_service: RunningService, setup: dict[str, Any]
) -> None:
    offer_id = await insert_offer(placements_service.db, setup["unit"], places=2)
    before = await count_rows(placements_service.db)
    refused = await book(placements_service, UNIVERSITY, offer_id, places=3)
    assert (refused.status_code, problem_code(refused)) == (409, "capacity_exceeded")
    assert "2 free" in refused.json()["detail"]
    await unchanged(placements_service, offer_id, before)

    assert (await book(placements_service, UNIVERSITY, offer_id, places=2)).status_code == 201
    refused = await book(placements_service, UNIVERSITY, offer_id, places=1)
    assert (refused.status_code, problem_code(refused)) == (409, "capacity_exceeded")
    assert "0 free" in refused.json()["detail"]
    assert await offer_counts(placements_service.db, offer_id) == (2, 2, 0)


async def test_unknown_and_invisible_offers_are_not_found(
    placements_service: RunningService, setup: dict[str, Any]
) -> None:
    unit = setup["unit"]
    draft = await insert_offer(placements_service.db, unit, status="draft")
    partners_only = await insert_offer(placements_service.db, unit, visibility="partners")
    before = await count_rows(placements_service.db)
    for actor, offer_id in (
        (UNIVERSITY, uuid.uuid4()),
        (UNIVERSITY, draft),  # drafts are their provider's alone
        (OTHER_UNIVERSITY, partners_only),  # no agreement with the provider
    ):
        refused = await book(placements_service, actor, offer_id)
        assert (refused.status_code, problem_code(refused)) == (404, "offer_not_found")
    assert await count_rows(placements_service.db) == before
    # The partner sees and books it.
    assert (await book(placements_service, UNIVERSITY, partners_only)).status_code == 201


@pytest.mark.parametrize("status", ["closed", "withdrawn"])
async def test_offers_past_published_are_not_bookable(
    placements_service: RunningService, setup: dict[str, Any], status: str
) -> None:
    offer_id = await insert_offer(placements_service.db, setup["unit"], status=status)
    before = await count_rows(placements_service.db)
    refused = await book(placements_service, UNIVERSITY, offer_id)
    assert (refused.status_code, problem_code(refused)) == (409, "offer_not_bookable")
    assert status in refused.json()["detail"]
    await unchanged(placements_service, offer_id, before)


@pytest.mark.parametrize(
    ("agreement", "reason"),
    [
        (None, "no_agreement_between_parties"),
        ({"status": "pending_signatures"}, "agreement_not_active"),
        ({"programmes": ["lakarprogrammet"], "professions": ["lakare"]}, "programme_not_covered"),
        ({"covered_municipality_codes": ["0180"]}, "place_not_covered"),
        ({"valid_to": date(2027, 9, 30)}, "dates_not_covered"),
    ],
)
async def test_no_active_agreement_gives_the_rules_reason(
    placements_service: RunningService,
    agreement: dict[str, Any] | None,
    reason: str,
) -> None:
    db = placements_service.db
    if agreement is not None:
        await project_agreement(db, agreement_terms(**agreement))
    offer_id = await insert_offer(db, await insert_unit(db))
    before = await count_rows(db)
    refused = await book(placements_service, UNIVERSITY, offer_id)
    assert (refused.status_code, problem_code(refused)) == (409, "no_active_agreement")
    assert refused.json()["detail"].startswith(f"{reason}: ")
    await unchanged(placements_service, offer_id, before)


async def test_an_agreement_may_list_the_profession_instead_of_the_programme(
    placements_service: RunningService,
) -> None:
    db = placements_service.db
    agreement = agreement_terms(programmes=[], professions=["sjukskoterska"])
    await project_agreement(db, agreement)
    offer_id = await insert_offer(db, await insert_unit(db))
    response = await book(placements_service, UNIVERSITY, offer_id)
    assert response.status_code == 201, response.text
    assert response.json()["agreement_id"] == str(agreement.agreement_id)


async def test_a_series_of_versions_covers_a_placement_across_an_amendment(
    placements_service: RunningService,
) -> None:
    db = placements_service.db
    first = agreement_terms(valid_to=date(2027, 12, 31), effective_until=date(2027, 9, 30))
    second = agreement_terms(
        series_id=first.series_id, version_number=2, valid_from=date(2027, 10, 1)
    )
    await project_agreement(db, first)
    await project_agreement(db, second, contract=AGREEMENT_ACTIVATED)
    offer_id = await insert_offer(db, await insert_unit(db))
    response = await book(placements_service, UNIVERSITY, offer_id)
    assert response.status_code == 201, response.text
    # The version in force on the first day is the one recorded.
    assert response.json()["agreement_id"] == str(first.agreement_id)


@pytest.mark.parametrize("actor", [PROVIDER, ADMIN, COORDINATOR, PORTAL])
async def test_only_universities_request(
    placements_service: RunningService, setup: dict[str, Any], actor: Actor
) -> None:
    before = await count_rows(placements_service.db)
    refused = await book(placements_service, actor, setup["offer_id"])
    assert (refused.status_code, problem_code(refused)) == (403, "forbidden")
    await unchanged(placements_service, setup["offer_id"], before)


@pytest.mark.parametrize(
    "fields",
    [
        {"places": 0},
        {"places": -1},
        {"student_ids": ["a", "b"], "places": 1},  # more students than places
        {"student_ids": ["a", "a"], "places": 2},
        {"student_ids": ["19900101-1234 x"]},
        {"student_ids": ["x" * 65]},
        {"course_code": ""},
        {"note": "x" * 501},
        {"unknown": 1},
    ],
)
async def test_invalid_requests_are_422(
    placements_service: RunningService, setup: dict[str, Any], fields: dict[str, Any]
) -> None:
    before = await count_rows(placements_service.db)
    refused = await book(placements_service, UNIVERSITY, setup["offer_id"], **fields)
    assert (refused.status_code, problem_code(refused)) == (422, "validation_error")
    await unchanged(placements_service, setup["offer_id"], before)


# --------------------------------------------------------------------------- idempotency


async def test_idempotency_key_replays_the_first_booking_and_holds_once(
    placements_service: RunningService, setup: dict[str, Any]
) -> None:
    offer_id = setup["offer_id"]
    first = await book(placements_service, UNIVERSITY, offer_id, places=2, key="k-1")
    assert first.status_code == 201, first.text
    assert "Idempotent-Replayed" not in first.headers
    replay = await book(placements_service, UNIVERSITY, offer_id, places=2, key="k-1")
    assert replay.status_code == 201
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert replay.json() == first.json()
    assert await offer_counts(placements_service.db, offer_id) == (10, 2, 0)
    assert (await count_rows(placements_service.db))["bookings"] == 1
    assert len(await events(placements_service.db, type_suffix="booking.requested.v1")) == 1

    before = await count_rows(placements_service.db)
    reused = await book(placements_service, UNIVERSITY, offer_id, places=3, key="k-1")
    assert (reused.status_code, problem_code(reused)) == (422, "idempotency_key_reused")
    assert await count_rows(placements_service.db) == before
    assert await offer_counts(placements_service.db, offer_id) == (10, 2, 0)

    # The key is per client: another university's same key is its own request (refused
    # here for want of an agreement, not as a reused key).
    refused = await book(placements_service, OTHER_UNIVERSITY, offer_id, places=2, key="k-1")
    assert problem_code(refused) == "no_active_agreement"


async def test_a_refused_request_leaves_its_key_unused(
    placements_service: RunningService, setup: dict[str, Any]
) -> None:
    offer_id = await insert_offer(placements_service.db, setup["unit"], places=1)
    refused = await book(placements_service, UNIVERSITY, offer_id, places=2, key="k-2")
    assert problem_code(refused) == "capacity_exceeded"
    # The same key with a body that fits now books: the refusal stored nothing.
    accepted = await book(placements_service, UNIVERSITY, offer_id, places=1, key="k-2")
    assert accepted.status_code == 201, accepted.text


# --------------------------------------------------------------------------- transitions


async def requested(service: RunningService, offer_id: uuid.UUID, places: int = 3) -> str:
    response = await book(service, UNIVERSITY, offer_id, places=places)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def act(
    service: RunningService, actor: Actor, booking_id: str, action: str, body: Any = None
) -> Any:
    kwargs = {} if body is None else {"json": body}
    return await service.call(actor, "POST", f"{BOOKINGS}/{booking_id}/{action}", **kwargs)


async def test_partial_confirmation_releases_the_rest(
    placements_service: RunningService, setup: dict[str, Any]
) -> None:
    offer_id = setup["offer_id"]
    booking_id = await requested(placements_service, offer_id, places=4)
    response = await act(placements_service, PROVIDER, booking_id, "confirm", {"places": 3})
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["status"], body["requested_places"], body["confirmed_places"]) == (
        "confirmed",
        4,
        3,
    )
    assert body["version"] == 2
    assert await offer_counts(placements_service.db, offer_id) == (10, 0, 3)
    (event,) = await events(placements_service.db, type_suffix="booking.confirmed.v1")
    assert (event.aggregateversion, event.data["confirmed_places"]) == (2, 3)


async def test_confirm_defaults_to_all_and_refuses_more(
    placements_service: RunningService, setup: dict[str, Any]
) -> None:
    offer_id = setup["offer_id"]
    booking_id = await requested(placements_service, offer_id, places=2)
    refused = await act(placements_service, PROVIDER, booking_id, "confirm", {"places": 3})
    assert (refused.status_code, problem_code(refused)) == (409, "too_many_places")
    response = await act(placements_service, PROVIDER, booking_id, "confirm")
    assert response.json()["confirmed_places"] == 2
    again = await act(placements_service, PROVIDER, booking_id, "confirm")
    assert (again.status_code, problem_code(again)) == (409, "invalid_booking_transition")
    assert "confirmed" in again.json()["detail"]
    assert await offer_counts(placements_service.db, offer_id) == (10, 0, 2)


async def test_decline_releases_the_held_places(
    placements_service: RunningService, setup: dict[str, Any]
) -> None:
    offer_id = setup["offer_id"]
    booking_id = await requested(placements_service, offer_id)
    response = await act(
        placements_service, PROVIDER, booking_id, "decline", {"reason": "no_supervisor"}
    )
    assert response.status_code == 200, response.text
    assert (response.json()["status"], response.json()["reason"]) == ("declined", "no_supervisor")
    assert await offer_counts(placements_service.db, offer_id) == (10, 0, 0)
    (event,) = await events(placements_service.db, type_suffix="booking.declined.v1")
    assert event.data["reason"] == "no_supervisor"
    refused = await act(placements_service, PROVIDER, booking_id, "confirm")
    assert problem_code(refused) == "invalid_booking_transition"


@pytest.mark.parametrize("canceller", [UNIVERSITY, PROVIDER])
@pytest.mark.parametrize("confirm_first", [False, True])
async def test_either_side_cancels_and_the_places_are_released(
    placements_service: RunningService,
    setup: dict[str, Any],
    canceller: Actor,
    confirm_first: bool,
) -> None:
    offer_id = setup["offer_id"]
    booking_id = await requested(placements_service, offer_id)
    if confirm_first:
        await act(placements_service, PROVIDER, booking_id, "confirm", {"places": 2})
    response = await act(
        placements_service,
        canceller,
        booking_id,
        "cancel",
        {"reason": "course_cancelled", "detail": "Too few students enrolled"},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["status"], body["reason"], body["reason_detail"]) == (
        "cancelled",
        "course_cancelled",
        "Too few students enrolled",
    )
    assert body["cancelled_by_organisation_id"] == str(canceller.organisation_id)
    assert await offer_counts(placements_service.db, offer_id) == (10, 0, 0)
    (event,) = await events(placements_service.db, type_suffix="booking.cancelled.v1")
    assert event.data["cancelled_by_organisation_id"] == str(canceller.organisation_id)
    again = await act(placements_service, canceller, booking_id, "cancel", {"reason": "x"})
    assert (again.status_code, problem_code(again)) == (409, "invalid_booking_transition")


async def test_start_and_complete_by_the_provider(
    placements_service: RunningService, setup: dict[str, Any]
) -> None:
    offer_id = setup["offer_id"]
    booking_id = await requested(placements_service, offer_id, places=2)
    early = await act(placements_service, PROVIDER, booking_id, "start")
    assert (early.status_code, problem_code(early)) == (409, "invalid_booking_transition")
    await act(placements_service, PROVIDER, booking_id, "confirm")
    students = await placements_service.call(
        UNIVERSITY, "PUT", f"{BOOKINGS}/{booking_id}/students", json={"student_ids": ["s1"]}
    )
    assert students.status_code == 200, students.text
    complete_early = await act(placements_service, PROVIDER, booking_id, "complete")
    assert problem_code(complete_early) == "invalid_booking_transition"
    started = await act(placements_service, PROVIDER, booking_id, "start")
    assert started.json()["status"] == "in_progress"
    refused = await act(placements_service, UNIVERSITY, booking_id, "cancel", {"reason": "x"})
    assert (refused.status_code, problem_code(refused)) == (409, "invalid_booking_transition")
    completed = await act(placements_service, PROVIDER, booking_id, "complete")
    assert completed.json()["status"] == "completed"
    # Completed places stay taken: they were used.
    assert await offer_counts(placements_service.db, offer_id) == (10, 0, 2)
    (done,) = await events(placements_service.db, type_suffix="placement.completed.v1")
    # One named student (of two places) x 8 ISO weeks (6 Sep .. 29 Oct 2027).
    assert done.data["student_weeks"] == 8
    assert done.data["student_count"] == 1
    assert len(await events(placements_service.db, type_suffix="placement.started.v1")) == 1


@dataclass(frozen=True)
class MultiRole:
    """An organisation holding several roles (what the role matrix alone lets through)."""

    roles: frozenset[str]
    organisation_id: uuid.UUID

    def headers(self) -> dict[str, str]:
        return identity_headers(
            roles=set(self.roles), organisation_id=self.organisation_id, subject="multi"
        )


async def test_who_may_act_on_a_booking(
    placements_service: RunningService, setup: dict[str, Any]
) -> None:
    booking_id = await requested(placements_service, setup["offer_id"])
    before = await count_rows(placements_service.db)
    # Another region that also coordinates: it sees the booking (coordinator) and passes
    # the role check (provider, university), so the service's own object rules answer.
    overseer = uuid.UUID("00000000-0000-7000-8000-000000000008")
    coordinating_provider = MultiRole(frozenset({"coordinator", "provider"}), overseer)
    coordinating_university = MultiRole(frozenset({"coordinator", "university"}), overseer)
    reason = {"reason": "x"}
    expectations: list[tuple[Any, str, Any, int, str]] = [
        # Refused by the role check in front of the endpoints (vfu_common.access).
        (UNIVERSITY, "confirm", None, 403, "forbidden"),
        (UNIVERSITY, "decline", reason, 403, "forbidden"),
        (UNIVERSITY, "start", None, 403, "forbidden"),
        (UNIVERSITY, "complete", None, 403, "forbidden"),
        (COORDINATOR, "cancel", reason, 403, "forbidden"),
        (COORDINATOR, "confirm", None, 403, "forbidden"),
        (OTHER_UNIVERSITY, "confirm", None, 403, "forbidden"),
        (PORTAL, "cancel", reason, 403, "forbidden"),
        (PORTAL, "confirm", None, 403, "forbidden"),
        # Refused by the bookings feature: invisible bookings do not exist ...
        (OTHER_UNIVERSITY, "cancel", reason, 404, "booking_not_found"),
        (OTHER_PROVIDER, "confirm", None, 404, "booking_not_found"),
        (OTHER_PROVIDER, "cancel", reason, 404, "booking_not_found"),
        (OTHER_PROVIDER, "start", None, 404, "booking_not_found"),
        # ... and a visible one is only its parties' to change.
        (coordinating_provider, "confirm", None, 403, "not_provider"),
        (coordinating_provider, "decline", reason, 403, "not_provider"),
        (coordinating_provider, "cancel", reason, 403, "not_a_party"),
    ]
    for actor, action, body, status, code in expectations:
        response = await act(placements_service, actor, booking_id, action, body)
        assert (response.status_code, problem_code(response)) == (status, code), (actor, action)
    for actor, status, code in (
        (PROVIDER, 403, "forbidden"),
        (OTHER_UNIVERSITY, 404, "booking_not_found"),
        (PORTAL, 403, "forbidden"),
        (coordinating_university, 403, "not_booking_university"),
    ):
        response = await placements_service.call(
            actor, "PUT", f"{BOOKINGS}/{booking_id}/students", json={"student_ids": ["s"]}
        )
        assert (response.status_code, problem_code(response)) == (status, code), actor
    assert await count_rows(placements_service.db) == before
    assert (await booking_row(placements_service.db, booking_id))["version"] == 1


@pytest.mark.parametrize(
    ("actor", "status"),
    [
        (UNIVERSITY, 200),
        (PROVIDER, 200),
        (ADMIN, 200),
        (COORDINATOR, 200),
        (OTHER_UNIVERSITY, 404),
        (OTHER_PROVIDER, 404),
        (PORTAL, 403),
    ],
)
async def test_who_may_read_a_booking(
    placements_service: RunningService, setup: dict[str, Any], actor: Actor, status: int
) -> None:
    booking_id = await requested(placements_service, setup["offer_id"])
    response = await placements_service.call(actor, "GET", f"{BOOKINGS}/{booking_id}")
    assert response.status_code == status, response.text
    unknown = await placements_service.call(actor, "GET", f"{BOOKINGS}/{uuid.uuid4()}")
    assert unknown.status_code == (403 if actor is PORTAL else 404)


@pytest.mark.parametrize("reason", ["offer_withdrawn", "agreement_ended", "Not A Code", ""])
async def test_reasons_are_codes_the_parties_may_give(
    placements_service: RunningService, setup: dict[str, Any], reason: str
) -> None:
    booking_id = await requested(placements_service, setup["offer_id"])
    refused = await act(placements_service, UNIVERSITY, booking_id, "cancel", {"reason": reason})
    assert (refused.status_code, problem_code(refused)) == (422, "validation_error")


# --------------------------------------------------------------------------- students


async def test_students_fit_the_places(
    placements_service: RunningService, setup: dict[str, Any]
) -> None:
    booking_id = await requested(placements_service, setup["offer_id"], places=3)
    path = f"{BOOKINGS}/{booking_id}/students"
    ok = await placements_service.call(
        UNIVERSITY, "PUT", path, json={"student_ids": ["c", "a", "b"]}
    )
    assert ok.status_code == 200, ok.text
    assert ok.json()["student_ids"] == ["a", "b", "c"]
    assert ok.json()["version"] == 2
    too_many = await placements_service.call(
        UNIVERSITY, "PUT", path, json={"student_ids": ["a", "b", "c", "d"]}
    )
    assert (too_many.status_code, problem_code(too_many)) == (409, "too_many_students")

    # Confirming fewer places than named students is refused; naming fewer first works.
    refused = await act(placements_service, PROVIDER, booking_id, "confirm", {"places": 2})
    assert (refused.status_code, problem_code(refused)) == (409, "too_many_students")
    assert (await booking_row(placements_service.db, booking_id))["status"] == "requested"
    await placements_service.call(UNIVERSITY, "PUT", path, json={"student_ids": ["a"]})
    confirmed = await act(placements_service, PROVIDER, booking_id, "confirm", {"places": 2})
    assert confirmed.status_code == 200, confirmed.text
    over = await placements_service.call(
        UNIVERSITY, "PUT", path, json={"student_ids": ["a", "b", "c"]}
    )
    assert (over.status_code, problem_code(over)) == (409, "too_many_students")
    fits = await placements_service.call(UNIVERSITY, "PUT", path, json={"student_ids": ["x", "y"]})
    assert fits.json()["student_ids"] == ["x", "y"]

    await act(placements_service, UNIVERSITY, booking_id, "cancel", {"reason": "x"})
    closed = await placements_service.call(UNIVERSITY, "PUT", path, json={"student_ids": []})
    assert (closed.status_code, problem_code(closed)) == (409, "invalid_booking_transition")


# --------------------------------------------------------------------------- lists


async def listed(service: RunningService, actor: Actor, **params: Any) -> list[str]:
    """Ids in the caller's list, following next_cursor with small pages."""
    ids: list[str] = []
    cursor = None
    while True:
        query = {"limit": 2, **params, **({"cursor": cursor} if cursor else {})}
        response = await service.call(actor, "GET", BOOKINGS, params=query)
        assert response.status_code == 200, response.text
        page = response.json()
        ids += [item["id"] for item in page["items"]]
        cursor = page.get("next_cursor")
        if cursor is None:
            assert len(ids) == len(set(ids))
            return ids


async def test_lists_show_each_caller_its_bookings(
    placements_service: RunningService, setup: dict[str, Any]
) -> None:
    db = placements_service.db
    other_terms = agreement_terms(
        parties=[
            AgreementPartyV1(organisation_id=OTHER_UNIVERSITY_ID, role="university"),
            AgreementPartyV1(organisation_id=REGION_ID, role="region"),
        ]
    )
    await project_agreement(db, other_terms)
    offer_id = setup["offer_id"]
    second_offer = await insert_offer(db, setup["unit"])
    mine = [await requested(placements_service, offer_id, places=1) for _ in range(3)]
    mine.append(await requested(placements_service, second_offer, places=1))
    theirs = (await book(placements_service, OTHER_UNIVERSITY, offer_id)).json()["id"]
    await act(placements_service, PROVIDER, mine[0], "confirm")

    assert await listed(placements_service, UNIVERSITY) == mine
    assert await listed(placements_service, OTHER_UNIVERSITY) == [theirs]
    assert await listed(placements_service, PROVIDER) == sorted([*mine, theirs])
    assert await listed(placements_service, ADMIN) == sorted([*mine, theirs])
    assert await listed(placements_service, COORDINATOR) == sorted([*mine, theirs])
    assert await listed(placements_service, OTHER_PROVIDER) == []
    assert await listed(placements_service, UNIVERSITY, offer_id=str(second_offer)) == mine[3:]
    assert await listed(placements_service, PROVIDER, status="confirmed") == mine[:1]
    portal = await placements_service.call(PORTAL, "GET", BOOKINGS)
    assert (portal.status_code, problem_code(portal)) == (403, "forbidden")
    bad = await placements_service.call(UNIVERSITY, "GET", BOOKINGS, params={"cursor": "x"})
    assert (bad.status_code, problem_code(bad)) == (400, "invalid_cursor")
