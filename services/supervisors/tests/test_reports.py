"""The reports: qualified share per provider and unit, lapsed qualifications, and training
demand, over HTTP on SQLite and PostgreSQL.

Supervisors are written straight into the registry tables (``reports_kit``), so these
tests depend on the registry's schema only; units, offers and agreements arrive as the
other services' events, through the consumer handlers and, in one test, over real NATS.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime
from typing import Any

import nats
import pytest
from supervisors.reports.demand import (
    STUDENTS_PER_SUPERVISOR,
    OfferNeed,
    PeakDemand,
    peak_demand,
    supervisors_needed,
)
from vfu_common.events.contracts import (
    AGREEMENT_ACTIVATED,
    OFFER_CLOSED,
    OFFER_PUBLISHED,
    OFFER_WITHDRAWN,
    UNIT_REGISTERED,
    EventContract,
    EventPayload,
)
from vfu_common.events.streams import ensure_stream, service_stream
from vfu_common.messaging.outbox import build_envelope
from vfu_devrun.processes import NatsServer

from services.supervisors.tests.conftest import (
    ADMIN,
    COORDINATOR,
    EMPLOYER,
    MUNICIPALITY,
    MUNICIPALITY_ID,
    OTHER_EMPLOYER,
    OTHER_REGION_ID,
    OTHER_UNIVERSITY,
    PORTAL,
    REGION_ID,
    UNIVERSITY,
    Actor,
    RunningService,
    deliver,
)
from services.supervisors.tests.reports_kit import (
    OTHER_PROFESSION,
    PROFESSION,
    agreement_event,
    agreement_terms,
    insert_supervisor,
    offer_event,
    unit_event,
)

QUALIFICATION = "/reports/qualification"
DEMAND = "/reports/training-demand"
IN_2027 = "2027-06-01"
LAPSED_AT = datetime(2027, 2, 1, 9, 30, tzinfo=UTC)


async def report(service: RunningService, actor: Actor, path: str, **params: Any) -> dict[str, Any]:
    response = await service.call(actor, "GET", path, params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def name_unit(service: RunningService, unit_id: uuid.UUID, name: str, **kw: Any) -> None:
    payload = unit_event(unit_id, name=name, **kw)
    await deliver(service.db, UNIT_REGISTERED, payload, aggregate_id=unit_id)


async def publish_offer(service: RunningService, unit_id: uuid.UUID, **fields: Any) -> None:
    contract: EventContract = fields.pop("contract", OFFER_PUBLISHED)
    payload = offer_event(unit_id, contract=contract, **fields)
    await deliver(service.db, contract, payload, aggregate_id=payload.offer_id)


async def raise_level(service: RunningService, **overrides: Any) -> uuid.UUID:
    """An active agreement covering REGION and MUNICIPALITY nurses in 2027 (course_7_5hp)."""
    terms = agreement_terms(**overrides)
    payload = agreement_event(AGREEMENT_ACTIVATED, terms)
    await deliver(service.db, AGREEMENT_ACTIVATED, payload, aggregate_id=terms.agreement_id)
    return terms.agreement_id


def counts(entry: dict[str, Any]) -> tuple[Any, ...]:
    return (
        entry["supervisors"],
        entry["qualified"],
        entry["qualified_share"],
        entry["qualified_for_agreements"],
        entry["qualified_for_agreements_share"],
    )


# --- the qualification report ---------------------------------------------------------


async def test_qualification_report_per_provider_and_unit(
    supervisors_service: RunningService,
) -> None:
    service = supervisors_service
    ward, clinic, empty = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    await name_unit(service, ward, "Enhet Test 1")
    await name_unit(service, empty, "Enhet Test 2")  # a unit without supervisors
    # ``clinic`` has no unit event yet: reported without a name.
    await raise_level(service)
    db = service.db
    basic = await insert_supervisor(db, unit_ids=(ward,), level_achieved="basic")
    course = await insert_supervisor(db, unit_ids=(ward, clinic), level_achieved="course_7_5hp")
    lapsed = await insert_supervisor(
        db, unit_ids=(ward,), licence_verified=False, lapsed_at=LAPSED_AT
    )
    doctor = await insert_supervisor(
        db, unit_ids=(clinic,), profession_code=OTHER_PROFESSION, level_achieved="basic"
    )
    await insert_supervisor(db, unit_ids=(ward,), active=False, level_achieved="advanced")
    await insert_supervisor(db, employer_id=OTHER_REGION_ID, unit_ids=(ward,))

    body = await report(service, EMPLOYER, QUALIFICATION, on=IN_2027)

    assert body["on"] == IN_2027
    [region] = body["providers"]
    assert region["provider_id"] == str(REGION_ID)
    # basic, course, lapsed and doctor are active; the agreement raises nurses (not the
    # doctor) to course_7_5hp, which only ``course`` reaches.
    assert counts(region) == (4, 3, 0.75, 2, 0.5)
    units = {u["unit_id"]: u for u in region["units"]}
    assert [u["unit_id"] for u in region["units"]] == [str(ward), str(empty), str(clinic)]
    assert (units[str(ward)]["unit_name"], units[str(clinic)]["unit_name"]) == (
        "Enhet Test 1",
        None,
    )
    assert counts(units[str(ward)]) == (3, 2, 0.6667, 1, 0.3333)
    assert counts(units[str(clinic)]) == (2, 2, 1.0, 2, 1.0)
    assert counts(units[str(empty)]) == (0, 0, None, 0, None)
    assert region["lapsed"] == [
        {
            "supervisor_id": str(lapsed),
            "profession_code": PROFESSION,
            "unit_ids": [str(ward)],
            "lapsed_at": "2027-02-01T09:30:00Z",
        }
    ]
    assert region["unknown_requirement_levels"] == []
    assert {basic, course, doctor}.isdisjoint(
        {uuid.UUID(x["supervisor_id"]) for x in region["lapsed"]}
    )


async def test_qualification_report_carries_no_personal_fields(
    supervisors_service: RunningService,
) -> None:
    unit = uuid.uuid4()
    await insert_supervisor(supervisors_service.db, unit_ids=(unit,), lapsed_at=LAPSED_AT)

    response = await supervisors_service.call(COORDINATOR, "GET", QUALIFICATION)

    assert response.status_code == 200, response.text
    for personal in ("Handledare Test", "SE2321000016", "handledare", "licence_verified_on"):
        assert personal not in response.text


async def test_agreements_outside_their_dates_do_not_count(
    supervisors_service: RunningService,
) -> None:
    await raise_level(supervisors_service)
    await insert_supervisor(supervisors_service.db, level_achieved="basic")

    during = await report(supervisors_service, EMPLOYER, QUALIFICATION, on=IN_2027)
    after = await report(supervisors_service, EMPLOYER, QUALIFICATION, on="2028-01-01")

    assert counts(during["providers"][0]) == (1, 1, 1.0, 0, 0.0)
    assert counts(after["providers"][0]) == (1, 1, 1.0, 1, 1.0)


async def test_unknown_requirement_levels_keep_the_default_and_are_reported(
    supervisors_service: RunningService,
) -> None:
    unknown = await raise_level(supervisors_service, supervision_requirement_level="dagkurs_x")
    await insert_supervisor(supervisors_service.db, level_achieved="basic")

    body = await report(supervisors_service, EMPLOYER, QUALIFICATION, on=IN_2027)

    [region] = body["providers"]
    assert counts(region) == (1, 1, 1.0, 1, 1.0)
    assert region["unknown_requirement_levels"] == [
        {"agreement_id": str(unknown), "level": "dagkurs_x"}
    ]


async def test_coordinators_and_admins_see_every_provider_or_the_one_asked_for(
    supervisors_service: RunningService,
) -> None:
    db = supervisors_service.db
    await insert_supervisor(db, employer_id=REGION_ID)
    await insert_supervisor(db, employer_id=MUNICIPALITY_ID, level_achieved=None)

    for actor in (COORDINATOR, ADMIN):
        every = await report(supervisors_service, actor, QUALIFICATION)
        by_id = {p["provider_id"]: counts(p)[:3] for p in every["providers"]}
        assert by_id == {str(REGION_ID): (1, 1, 1.0), str(MUNICIPALITY_ID): (1, 0, 0.0)}
        one = await report(supervisors_service, actor, QUALIFICATION, provider_id=MUNICIPALITY_ID)
        assert [p["provider_id"] for p in one["providers"]] == [str(MUNICIPALITY_ID)]

    # A provider sees its own organisation only, asked for or not.
    own = await report(supervisors_service, MUNICIPALITY, QUALIFICATION)
    assert [p["provider_id"] for p in own["providers"]] == [str(MUNICIPALITY_ID)]
    named = await report(
        supervisors_service, MUNICIPALITY, QUALIFICATION, provider_id=MUNICIPALITY_ID
    )
    assert named == own
    nothing = await report(supervisors_service, OTHER_EMPLOYER, QUALIFICATION)
    assert nothing["providers"] == []


# --- access ---------------------------------------------------------------------------


@pytest.mark.parametrize("path", [QUALIFICATION, DEMAND])
@pytest.mark.parametrize(
    "actor", [PORTAL, UNIVERSITY, OTHER_UNIVERSITY, Actor("portal", REGION_ID)], ids=repr
)
async def test_portals_and_universities_are_refused(
    supervisors_service: RunningService, path: str, actor: Actor
) -> None:
    await insert_supervisor(supervisors_service.db)

    response = await supervisors_service.call(actor, "GET", path, params={"provider_id": REGION_ID})

    assert response.status_code == 403, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] == "forbidden"


@pytest.mark.parametrize("path", [QUALIFICATION, DEMAND])
async def test_a_provider_may_not_read_another_providers_report(
    supervisors_service: RunningService, path: str
) -> None:
    response = await supervisors_service.call(
        OTHER_EMPLOYER, "GET", path, params={"provider_id": str(REGION_ID)}
    )

    assert response.status_code == 403, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] == "not_own_organisation"


@pytest.mark.parametrize("path", [QUALIFICATION, DEMAND])
async def test_a_provider_without_an_organisation_gets_an_empty_report(
    supervisors_service: RunningService, path: str
) -> None:
    await insert_supervisor(supervisors_service.db)
    await publish_offer(supervisors_service, uuid.uuid4(), end_date=date(2099, 1, 1))

    body = await report(supervisors_service, Actor("provider", None), path)

    assert body.get("providers", body.get("rows")) == []


@pytest.mark.parametrize("path", [QUALIFICATION, DEMAND])
@pytest.mark.parametrize(
    "params",
    [{"provider_id": "not-a-uuid"}, {"on": "2027-13-01"}, {"unit_id": str(uuid.uuid4())}],
    ids=["bad_provider_id", "bad_date", "unknown_parameter"],
)
async def test_bad_parameters_are_refused(
    supervisors_service: RunningService, path: str, params: dict[str, str]
) -> None:
    response = await supervisors_service.call(ADMIN, "GET", path, params=params)

    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")


# --- training demand ------------------------------------------------------------------


def test_supervisors_needed_per_model() -> None:
    assert dict(STUDENTS_PER_SUPERVISOR) == {
        "one_to_one": 1,
        "peer_2_to_1": 2,
        "group": 4,
        "student_ward": 6,
    }
    assert [supervisors_needed(3, m) for m in STUDENTS_PER_SUPERVISOR] == [3, 2, 1, 1]
    assert [supervisors_needed(7, m) for m in STUDENTS_PER_SUPERVISOR] == [7, 4, 2, 2]
    assert supervisors_needed(0, "peer_2_to_1") == 0


def test_peak_demand_is_the_busiest_term_earliest_on_ties() -> None:
    unit = uuid.uuid4()

    def need(term: str, places: int) -> OfferNeed:
        return OfferNeed(REGION_ID, unit, PROFESSION, term, places, "one_to_one")

    assert peak_demand([need("2027-HT", 2), need("2027-VT", 1), need("2027-VT", 1)]) == [
        PeakDemand(REGION_ID, unit, PROFESSION, "2027-VT", 2)
    ]
    assert peak_demand([need("2028-VT", 3), need("2027-HT", 1), need("2027-HT", 1)]) == [
        PeakDemand(REGION_ID, unit, PROFESSION, "2028-VT", 3)
    ]


async def test_training_demand_lists_units_short_of_qualified_supervisors(
    supervisors_service: RunningService,
) -> None:
    service, db = supervisors_service, supervisors_service.db
    ward, clinic = uuid.uuid4(), uuid.uuid4()
    await name_unit(service, ward, "Enhet Test 1")
    # Spring at the ward: 3 one-to-one (3) + 3 in pairs (2) = 5 supervisors; autumn: 9 in
    # groups of four = 3. The busiest term, spring, counts.
    await publish_offer(service, ward, places=3, supervision_model="one_to_one")
    await publish_offer(service, ward, places=3, supervision_model="peer_2_to_1")
    await publish_offer(
        service,
        ward,
        places=9,
        supervision_model="group",
        term="2027-HT",
        start_date=date(2027, 9, 1),
        end_date=date(2027, 10, 29),
    )
    # Not demand: ended before the day asked about, closed, withdrawn, other providers.
    await publish_offer(service, ward, places=8, end_date=date(2026, 12, 31))
    await publish_offer(service, ward, places=8, contract=OFFER_CLOSED, status="closed")
    await publish_offer(service, ward, places=8, contract=OFFER_WITHDRAWN, status="withdrawn")
    other_unit = uuid.uuid4()
    await publish_offer(service, other_unit, provider_id=OTHER_REGION_ID, places=2)
    # The clinic: 7 on a student ward need 2 nurses (it has them); one doctor place (none).
    await publish_offer(service, clinic, places=7, supervision_model="student_ward")
    await publish_offer(service, clinic, places=1, profession_code=OTHER_PROFESSION)

    # Two qualified nurses at the ward; the rest do not count there.
    await insert_supervisor(db, unit_ids=(ward,))
    await insert_supervisor(db, unit_ids=(ward, clinic), level_achieved="advanced")
    await insert_supervisor(db, unit_ids=(ward,), level_achieved=None)  # not qualified
    await insert_supervisor(db, unit_ids=(ward,), active=False)
    await insert_supervisor(db, unit_ids=(ward,), profession_code=OTHER_PROFESSION)
    await insert_supervisor(db, unit_ids=(ward,), employer_id=OTHER_REGION_ID)
    await insert_supervisor(db, unit_ids=(clinic,))

    body = await report(service, EMPLOYER, DEMAND, on="2027-01-01")

    assert body["on"] == "2027-01-01"
    assert body["students_per_supervisor"] == dict(STUDENTS_PER_SUPERVISOR)
    assert body["rows"] == [
        {
            "provider_id": str(REGION_ID),
            "unit_id": str(ward),
            "unit_name": "Enhet Test 1",
            "profession_code": PROFESSION,
            "term": "2027-VT",
            "needed": 5,
            "qualified_available": 2,
            "shortfall": 3,
        },
        {
            "provider_id": str(REGION_ID),
            "unit_id": str(clinic),
            "unit_name": None,
            "profession_code": OTHER_PROFESSION,
            "term": "2027-VT",
            "needed": 1,
            "qualified_available": 0,
            "shortfall": 1,
        },
    ]

    # Once spring has ended, autumn's 3 remain against the same 2 supervisors.
    later = await report(service, EMPLOYER, DEMAND, on="2027-06-01")
    assert [(r["term"], r["needed"], r["shortfall"]) for r in later["rows"]] == [("2027-HT", 3, 1)]

    coordinator = await report(service, COORDINATOR, DEMAND, on="2027-01-01")
    assert [(r["unit_id"], r["shortfall"]) for r in coordinator["rows"]] == [
        (str(ward), 3),
        (str(other_unit), 2),
        (str(clinic), 1),
    ]


# --- over real NATS -------------------------------------------------------------------


async def eventually(check: Callable[[], Awaitable[bool]], timeout: float = 30.0) -> None:
    """Poll ``check`` until true; fail after ``timeout`` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not await check():
        if loop.time() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        await asyncio.sleep(0.05)


async def test_reports_follow_events_over_nats(
    supervisors_service: RunningService, nats_server: NatsServer
) -> None:
    service = supervisors_service
    unit = uuid.uuid4()
    await insert_supervisor(service.db, unit_ids=(unit,), level_achieved="basic")
    nc = await nats.connect(nats_server.url)
    js = nc.jetstream()

    async def publish(contract: EventContract, payload: EventPayload, aggregate_id: Any) -> None:
        await ensure_stream(js, service_stream(contract.stream_service))
        envelope = build_envelope(
            contract,
            payload,
            source=f"/vfu/{contract.stream_service}",
            aggregate_id=aggregate_id,
            aggregate_version=1,
        )
        await js.publish(
            contract.event_type, envelope.to_bytes(), headers={"Nats-Msg-Id": str(envelope.id)}
        )

    try:
        terms = agreement_terms()
        await publish(
            AGREEMENT_ACTIVATED, agreement_event(AGREEMENT_ACTIVATED, terms), terms.agreement_id
        )
        await publish(UNIT_REGISTERED, unit_event(unit, name="Enhet Test 9"), unit)
        offer = offer_event(unit, places=2)
        await publish(OFFER_PUBLISHED, offer, offer.offer_id)

        async def demand_shows_the_unit() -> bool:
            body = await report(service, EMPLOYER, DEMAND, on="2027-01-01")
            return bool(body["rows"]) and body["rows"][0]["unit_name"] == "Enhet Test 9"

        async def agreement_raises_the_level() -> bool:
            body = await report(service, EMPLOYER, QUALIFICATION, on=IN_2027)
            return bool(body["providers"][0]["qualified_for_agreements"] == 0)

        await eventually(demand_shows_the_unit)
        await eventually(agreement_raises_the_level)
        body = await report(service, EMPLOYER, DEMAND, on="2027-01-01")
        assert [(r["needed"], r["qualified_available"], r["shortfall"]) for r in body["rows"]] == [
            (2, 1, 1)
        ]
    finally:
        await nc.close()
