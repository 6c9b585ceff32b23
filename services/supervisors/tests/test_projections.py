"""The supervisors service's read models of units, offers and agreement requirements.

On SQLite and PostgreSQL with the service's own migrations; events reach the models
through the handlers the service's NATS consumers run (``deliver``), in any order and
more than once: only a newer aggregate version changes a row.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import date
from typing import Any

import pytest
from sqlalchemy import select
from supervisors.projections.agreements import (
    agreement_requirement_providers,
    agreement_requirements,
    covering_requirements,
    required_level_for,
    strictest_requirement,
)
from supervisors.projections.offers import offer_projection
from supervisors.projections.units import unit_projection
from vfu_common.db import Database
from vfu_common.events.contracts import (
    AGREEMENT_ACTIVATED,
    AGREEMENT_AMENDED,
    AGREEMENT_EXPIRY_UPCOMING,
    AGREEMENT_NOTICE_GIVEN,
    AGREEMENT_SIGNED,
    AGREEMENT_TERMINATED,
    OFFER_CLOSED,
    OFFER_PUBLISHED,
    OFFER_UPDATED,
    OFFER_WITHDRAWN,
    UNIT_CHANGED,
    UNIT_REGISTERED,
    EventContract,
    platform_contracts,
)

from services.supervisors.tests.conftest import (
    MUNICIPALITY_ID,
    OTHER_REGION_ID,
    REGION_ID,
    deliver,
)
from services.supervisors.tests.reports_kit import (
    OTHER_PROFESSION,
    PROFESSION,
    agreement_event,
    agreement_terms,
    offer_event,
    unit_event,
)

AGREEMENT_CONTRACTS = [c for c in platform_contracts() if c.aggregate_type == "agreement"]
# Fields some agreement event types carry besides the terms.
EVENT_FIELDS: dict[str, dict[str, Any]] = {
    AGREEMENT_SIGNED.event_type: {"signer_organisation_id": REGION_ID},
    AGREEMENT_NOTICE_GIVEN.event_type: {
        "notice_given_by_organisation_id": REGION_ID,
        "notice_given_on": date(2027, 3, 1),
    },
    AGREEMENT_EXPIRY_UPCOMING.event_type: {"days_left": 30},
    "vfu.agreements.agreement.renewed.v1": {"previous_valid_to": date(2026, 12, 31)},
}
IN_2027 = date(2027, 6, 1)


@pytest.fixture
async def db(database_url: str, migrate_service: Any) -> AsyncIterator[Database]:
    """The supervisors service's migrated database (no app: the handlers are called)."""
    await migrate_service("supervisors", database_url)
    database = Database(database_url)
    try:
        yield database
    finally:
        await database.dispose()


async def rows_of(db: Database, table: Any, *where: Any) -> list[Any]:
    async with db.read() as session:
        return list((await session.execute(select(table).where(*where))).mappings())


# --- units ----------------------------------------------------------------------------


async def test_unit_events_keep_the_newest_state(db: Database) -> None:
    unit_id = uuid.uuid4()

    async def send(contract: EventContract, name: str, version: int) -> None:
        payload = unit_event(unit_id, contract=contract, name=name)
        await deliver(db, contract, payload, aggregate_id=unit_id, version=version)

    await send(UNIT_REGISTERED, "Enhet Test 1", 1)
    await send(UNIT_CHANGED, "Enhet Test 3", 3)
    await send(UNIT_CHANGED, "Enhet Test 2", 2)  # late: older than the stored version
    await send(UNIT_CHANGED, "Enhet Test 3", 3)  # redelivered

    [row] = await rows_of(db, unit_projection, unit_projection.c.unit_id == unit_id)
    assert (row["name"], row["aggregate_version"], row["provider_id"]) == (
        "Enhet Test 3",
        3,
        REGION_ID,
    )
    assert (row["municipality_code"], row["care_setting"]) == ("0380", "hospital_ward")


# --- offers ---------------------------------------------------------------------------


async def test_offer_events_keep_the_newest_state(db: Database) -> None:
    unit_id, offer_id = uuid.uuid4(), uuid.uuid4()

    async def send(contract: EventContract, version: int, **fields: Any) -> None:
        payload = offer_event(unit_id, contract=contract, offer_id=offer_id, **fields)
        await deliver(db, contract, payload, aggregate_id=offer_id, version=version)

    await send(OFFER_PUBLISHED, 1, places=4)
    await send(OFFER_WITHDRAWN, 4, places=6, status="withdrawn")
    await send(OFFER_UPDATED, 2, places=9)  # late: must not revive the offer
    await send(OFFER_CLOSED, 3, places=6, status="closed")  # late too
    await send(OFFER_WITHDRAWN, 4, places=6, status="withdrawn")  # redelivered

    [row] = await rows_of(db, offer_projection, offer_projection.c.offer_id == offer_id)
    assert (row["status"], row["places"], row["aggregate_version"]) == ("withdrawn", 6, 4)
    assert (row["unit_id"], row["provider_id"], row["profession_code"]) == (
        unit_id,
        REGION_ID,
        PROFESSION,
    )
    assert (row["term"], row["start_date"], row["end_date"]) == (
        "2027-VT",
        date(2027, 1, 18),
        date(2027, 3, 12),
    )
    assert (row["supervision_model"], row["confirmed_places"]) == ("one_to_one", 0)


@pytest.mark.parametrize(
    "contract",
    [OFFER_PUBLISHED, OFFER_UPDATED, OFFER_CLOSED, OFFER_WITHDRAWN],
    ids=lambda c: c.event_type,
)
async def test_each_offer_event_type_is_projected(db: Database, contract: EventContract) -> None:
    unit_id, offer_id = uuid.uuid4(), uuid.uuid4()
    payload = offer_event(unit_id, contract=contract, offer_id=offer_id, places=3)
    await deliver(db, contract, payload, aggregate_id=offer_id, version=2)

    [row] = await rows_of(db, offer_projection, offer_projection.c.offer_id == offer_id)
    assert (row["places"], row["aggregate_version"]) == (3, 2)


# --- agreements -----------------------------------------------------------------------


async def providers_of(db: Database, agreement_id: uuid.UUID) -> set[uuid.UUID]:
    table = agreement_requirement_providers
    return {
        row["provider_id"] for row in await rows_of(db, table, table.c.agreement_id == agreement_id)
    }


@pytest.mark.parametrize("contract", AGREEMENT_CONTRACTS, ids=lambda c: c.event_type)
async def test_each_agreement_event_type_applies_its_terms(
    db: Database, contract: EventContract
) -> None:
    terms = agreement_terms(status="notice_given", valid_to=None, effective_until=date(2027, 9, 30))
    payload = agreement_event(contract, terms, **EVENT_FIELDS.get(contract.event_type, {}))
    await deliver(db, contract, payload, aggregate_id=terms.agreement_id, version=2)

    table = agreement_requirements
    [row] = await rows_of(db, table, table.c.agreement_id == terms.agreement_id)
    assert (row["status"], row["supervision_requirement_level"]) == ("notice_given", "course_7_5hp")
    assert (row["valid_from"], row["effective_until"]) == (date(2027, 1, 1), date(2027, 9, 30))
    assert (row["professions"], row["programmes"]) == (
        '["sjukskoterska"]',
        '["sjukskoterskeprogrammet"]',
    )
    assert row["aggregate_version"] == 2
    # The providers only: the university is a party but employs no supervisors here.
    assert await providers_of(db, terms.agreement_id) == {REGION_ID, MUNICIPALITY_ID}


async def test_effective_until_falls_back_to_valid_to(db: Database) -> None:
    terms = agreement_terms(valid_to=date(2027, 12, 31), effective_until=None)
    await deliver(
        db,
        AGREEMENT_ACTIVATED,
        agreement_event(AGREEMENT_ACTIVATED, terms),
        aggregate_id=terms.agreement_id,
    )

    table = agreement_requirements
    [row] = await rows_of(db, table, table.c.agreement_id == terms.agreement_id)
    assert row["effective_until"] == date(2027, 12, 31)


async def test_agreement_providers_follow_the_newest_version_only(db: Database) -> None:
    agreement_id = uuid.uuid4()

    async def send(version: int, level: str | None, *party_ids: uuid.UUID) -> None:
        base = agreement_terms(agreement_id=agreement_id)
        parties = [p for p in base.parties if p.organisation_id in party_ids]
        terms = agreement_terms(
            agreement_id=agreement_id, parties=parties, supervision_requirement_level=level
        )
        payload = agreement_event(AGREEMENT_ACTIVATED, terms)
        await deliver(db, AGREEMENT_ACTIVATED, payload, aggregate_id=agreement_id, version=version)

    await send(1, "course_7_5hp", REGION_ID, MUNICIPALITY_ID)
    await send(3, "advanced", REGION_ID)
    await send(2, "introduction", MUNICIPALITY_ID)  # late
    await send(3, "advanced", REGION_ID)  # redelivered

    assert await providers_of(db, agreement_id) == {REGION_ID}
    table = agreement_requirements
    [row] = await rows_of(db, table, table.c.agreement_id == agreement_id)
    assert (row["supervision_requirement_level"], row["aggregate_version"]) == ("advanced", 3)


# --- the level an agreement requires --------------------------------------------------


async def activate(db: Database, version: int = 1, **overrides: Any) -> uuid.UUID:
    terms = agreement_terms(**overrides)
    contract = AGREEMENT_ACTIVATED
    if terms.status == "terminated":
        contract = AGREEMENT_TERMINATED
    await deliver(
        db,
        contract,
        agreement_event(contract, terms),
        aggregate_id=terms.agreement_id,
        version=version,
    )
    return terms.agreement_id


async def level_for(
    db: Database,
    provider_id: uuid.UUID = REGION_ID,
    profession: str = PROFESSION,
    on: date = IN_2027,
    default: str = "basic",
) -> str:
    async with db.read() as session:
        return await required_level_for(session, provider_id, profession, on, default)


async def test_without_agreements_the_default_applies(db: Database) -> None:
    assert await level_for(db) == "basic"
    assert await level_for(db, default="introduction") == "introduction"


async def test_a_covering_agreement_raises_the_level(db: Database) -> None:
    await activate(db)
    assert await level_for(db) == "course_7_5hp"
    # Every provider party is covered, whichever provider role it holds.
    assert await level_for(db, provider_id=MUNICIPALITY_ID) == "course_7_5hp"


async def test_the_strictest_covering_agreement_wins(db: Database) -> None:
    await activate(db, supervision_requirement_level="course_7_5hp")
    strictest = await activate(db, supervision_requirement_level="advanced")
    await activate(db, supervision_requirement_level="introduction")

    assert await level_for(db) == "advanced"
    async with db.read() as session:
        requirements = await covering_requirements(session, REGION_ID, IN_2027)
    required = strictest_requirement(requirements, PROFESSION, "basic")
    assert (required.level, required.raised_by, required.unknown_levels) == (
        "advanced",
        (strictest,),
        (),
    )


async def test_an_agreement_never_lowers_the_default(db: Database) -> None:
    await activate(db, supervision_requirement_level="introduction")
    assert await level_for(db) == "basic"
    await activate(db, supervision_requirement_level="course_7_5hp")
    assert await level_for(db, default="advanced") == "advanced"


@pytest.mark.parametrize(
    ("overrides", "asked"),
    [
        pytest.param({"professions": [OTHER_PROFESSION]}, {}, id="other_profession"),
        pytest.param({}, {"profession": OTHER_PROFESSION}, id="asked_other_profession"),
        pytest.param({}, {"provider_id": OTHER_REGION_ID}, id="other_provider"),
        pytest.param({"status": "draft"}, {}, id="draft"),
        pytest.param({"status": "pending_signatures"}, {}, id="pending_signatures"),
        pytest.param({"status": "terminated"}, {}, id="terminated"),
        pytest.param({"status": "expired"}, {}, id="expired"),
        pytest.param({}, {"on": date(2026, 12, 31)}, id="before_valid_from"),
        pytest.param({}, {"on": date(2028, 1, 1)}, id="after_valid_to"),
        pytest.param(
            {"status": "notice_given", "effective_until": date(2027, 5, 31)}, {}, id="ended"
        ),
        pytest.param({"supervision_requirement_level": None}, {}, id="no_level"),
    ],
)
async def test_agreements_that_do_not_cover_leave_the_default(
    db: Database, overrides: dict[str, Any], asked: dict[str, Any]
) -> None:
    await activate(db, **overrides)
    assert await level_for(db, **asked) == "basic"


@pytest.mark.parametrize(
    ("overrides", "on"),
    [
        pytest.param({"status": "notice_given"}, IN_2027, id="notice_given"),
        pytest.param({}, date(2027, 1, 1), id="first_day"),
        pytest.param({}, date(2027, 12, 31), id="last_day"),
        pytest.param({"valid_to": None}, date(2031, 1, 1), id="open_ended"),
        pytest.param(
            {"status": "notice_given", "effective_until": date(2027, 5, 31)},
            date(2027, 5, 31),
            id="last_day_after_notice",
        ),
    ],
)
async def test_agreements_that_cover_raise_the_level(
    db: Database, overrides: dict[str, Any], on: date
) -> None:
    await activate(db, **overrides)
    assert await level_for(db, on=on) == "course_7_5hp"


async def test_a_newer_version_without_the_requirement_lowers_it_again(db: Database) -> None:
    agreement_id = await activate(db, version=1)
    assert await level_for(db) == "course_7_5hp"
    await activate(db, version=2, agreement_id=agreement_id, supervision_requirement_level=None)
    assert await level_for(db) == "basic"
    await activate(db, version=2, agreement_id=agreement_id, status="terminated")
    assert await level_for(db) == "basic"


async def test_an_amendment_counts_under_its_own_id(db: Database) -> None:
    original = agreement_terms()
    amended = agreement_terms(
        series_id=original.series_id,
        version_number=2,
        supersedes_agreement_id=original.agreement_id,
        supervision_requirement_level="advanced",
    )
    payload = agreement_event(AGREEMENT_AMENDED, amended)
    await deliver(db, AGREEMENT_AMENDED, payload, aggregate_id=amended.agreement_id)
    assert await level_for(db) == "advanced"


async def test_an_unknown_level_keeps_the_default_and_is_reported(db: Database) -> None:
    agreement_id = await activate(db, supervision_requirement_level="hospitering_2_dagar")
    await activate(db, supervision_requirement_level="course_7_5hp", professions=[OTHER_PROFESSION])

    assert await level_for(db) == "basic"
    assert await level_for(db, profession=OTHER_PROFESSION) == "course_7_5hp"
    async with db.read() as session:
        requirements = await covering_requirements(session, REGION_ID, IN_2027)
    required = strictest_requirement(requirements, PROFESSION, "basic")
    assert required.level == "basic"
    assert [(u.agreement_id, u.level) for u in required.unknown_levels] == [
        (agreement_id, "hospitering_2_dagar")
    ]
    # Only the profession it names: the other profession's requirement has no unknown.
    assert strictest_requirement(requirements, OTHER_PROFESSION, "basic").unknown_levels == ()
