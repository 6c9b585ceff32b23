"""The placements service's agreement projection and the coverage decided from it.

On SQLite and PostgreSQL with the service's own migrations: handlers apply the terms
every agreement event carries, version-guarded; ``find_coverage`` over the projection
decides as ``decide_coverage`` over the same terms; and over real NATS the running
service's coverage endpoint follows the AGREEMENTS stream.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import date
from typing import Any

import httpx
import nats
import pytest
from placements.coverage.service import find_coverage
from placements.main import create_app
from placements.projections.agreements import (
    HANDLERS,
    agreement_parties,
    agreements,
    terms_of,
)
from placements.settings import Settings
from placements.subscriptions import FROM_AGREEMENTS
from sqlalchemy import select
from vfu_common.db import Database
from vfu_common.events.contracts import (
    AGREEMENT_ACTIVATED,
    AGREEMENT_AMENDED,
    AGREEMENT_EXPIRY_UPCOMING,
    AGREEMENT_NOTICE_GIVEN,
    AGREEMENT_PROPOSED,
    AGREEMENT_SIGNED,
    AGREEMENT_TERMINATED,
    AgreementPartyV1,
    AgreementTermsV1,
    EventContract,
    platform_contracts,
)
from vfu_common.events.streams import ensure_stream, service_stream
from vfu_common.messaging.outbox import build_envelope
from vfu_devrun.processes import NatsServer
from vfu_domain.coverage import CoverageQuery, decide_coverage
from vfu_testing.tokens import identity_headers
from vfu_testing.tokens import test_keypair as keypair

UNIVERSITY = uuid.UUID("00000000-0000-7000-8000-000000000001")
REGION = uuid.UUID("00000000-0000-7000-8000-000000000002")
MUNICIPALITY = uuid.UUID("00000000-0000-7000-8000-000000000003")
OTHER_UNIVERSITY = uuid.UUID("00000000-0000-7000-8000-000000000004")
UNIT = uuid.UUID("00000000-0000-7000-8000-0000000000a1")

COVERAGE = "/api/v1/placements/agreement-coverage"
AGREEMENT_CONTRACTS = [c for c in platform_contracts() if c.aggregate_type == "agreement"]
# Fields some event types carry besides the terms.
EVENT_FIELDS: dict[str, dict[str, Any]] = {
    AGREEMENT_SIGNED.event_type: {"signer_organisation_id": REGION},
    AGREEMENT_NOTICE_GIVEN.event_type: {
        "notice_given_by_organisation_id": REGION,
        "notice_given_on": date(2027, 3, 1),
    },
    AGREEMENT_EXPIRY_UPCOMING.event_type: {"days_left": 30},
    "vfu.agreements.agreement.renewed.v1": {"previous_valid_to": date(2026, 12, 31)},
}


def parties(*pairs: tuple[uuid.UUID, str]) -> list[AgreementPartyV1]:
    return [AgreementPartyV1(organisation_id=org, role=role) for org, role in pairs]


BILATERAL = parties((UNIVERSITY, "university"), (REGION, "region"))


def terms(**overrides: Any) -> AgreementTermsV1:
    """An active bilateral agreement, UNIVERSITY with REGION, for nursing in 2027."""
    agreement_id = overrides.pop("agreement_id", uuid.uuid4())
    fields: dict[str, Any] = {
        "agreement_id": agreement_id,
        "series_id": agreement_id,
        "version_number": 1,
        "agreement_type": "bilateral_vfu",
        "title": "VFU nursing",
        "status": "active",
        "parties": BILATERAL,
        "programmes": ["VSSJK"],
        "valid_from": date(2027, 1, 1),
        "valid_to": date(2027, 12, 31),
    }
    return AgreementTermsV1(**(fields | overrides))


def event(contract: EventContract, agreement: AgreementTermsV1, version: int) -> Any:
    """The envelope of ``contract`` carrying ``agreement``'s terms at aggregate ``version``."""
    payload = contract.payload.model_validate(
        agreement.model_dump() | EVENT_FIELDS.get(contract.event_type, {})
    )
    return build_envelope(
        contract,
        payload,
        source="/vfu/agreements",
        aggregate_id=agreement.agreement_id,
        aggregate_version=version,
    ), payload


async def apply(
    db: Database, contract: EventContract, agreement: AgreementTermsV1, version: int
) -> None:
    """Run the subscription's handler for one event, as the consumer would."""
    envelope, payload = event(contract, agreement, version)
    async with db.write() as session:
        await FROM_AGREEMENTS[contract.event_type](session, envelope, payload)


async def stored(db: Database, agreement_id: uuid.UUID) -> tuple[Any, set[tuple[uuid.UUID, str]]]:
    """The projection row and the party rows of one agreement."""
    async with db.read() as session:
        row = (
            await session.execute(
                select(agreements).where(agreements.c.agreement_id == agreement_id)
            )
        ).one()
        party_rows = (
            await session.execute(
                select(agreement_parties.c.organisation_id, agreement_parties.c.role).where(
                    agreement_parties.c.agreement_id == agreement_id
                )
            )
        ).all()
    return row, {(p.organisation_id, p.role) for p in party_rows}


@pytest.fixture
async def db(database_url: str, migrate_service: Any) -> AsyncIterator[Database]:
    """The placements database, migrated to head."""
    await migrate_service("placements", database_url)
    database = Database(database_url)
    yield database
    await database.dispose()


# --- handlers ---------------------------------------------------------------------------


def test_every_agreement_event_type_has_a_handler() -> None:
    assert len(AGREEMENT_CONTRACTS) == 10
    assert {c.event_type for c in AGREEMENT_CONTRACTS} == set(HANDLERS)


@pytest.mark.parametrize("contract", AGREEMENT_CONTRACTS, ids=lambda c: c.event_type.split(".")[3])
async def test_each_event_type_applies_its_terms(db: Database, contract: EventContract) -> None:
    agreement = terms(
        status="notice_given",
        effective_until=date(2027, 6, 30),
        parties=parties(
            (UNIVERSITY, "university"), (REGION, "region"), (MUNICIPALITY, "municipality")
        ),
        covered_unit_ids=[UNIT],
    )
    await apply(db, contract, agreement, 3)

    row, party_rows = await stored(db, agreement.agreement_id)
    assert AgreementTermsV1.model_validate_json(row.terms) == agreement
    assert (row.series_id, row.status, row.aggregate_version) == (
        agreement.series_id,
        "notice_given",
        3,
    )
    assert (row.valid_from, row.effective_until) == (date(2027, 1, 1), date(2027, 6, 30))
    assert party_rows == {
        (UNIVERSITY, "university"),
        (REGION, "region"),
        (MUNICIPALITY, "municipality"),
    }


def test_stored_terms_leave_out_event_specific_fields() -> None:
    agreement = terms()
    _, payload = event(AGREEMENT_SIGNED, agreement, 2)
    assert terms_of(payload) == agreement
    assert "signer_organisation_id" not in terms_of(payload).model_dump()


async def test_effective_until_column_falls_back_to_valid_to(db: Database) -> None:
    open_ended = terms(valid_to=None, notice_period_months=6)
    fixed = terms(effective_until=None)
    await apply(db, AGREEMENT_ACTIVATED, open_ended, 1)
    await apply(db, AGREEMENT_ACTIVATED, fixed, 1)
    assert (await stored(db, open_ended.agreement_id))[0].effective_until is None
    assert (await stored(db, fixed.agreement_id))[0].effective_until == date(2027, 12, 31)


async def test_older_version_after_newer_changes_nothing(db: Database) -> None:
    agreement_id = uuid.uuid4()
    terminated = terms(agreement_id=agreement_id, status="terminated")
    stale = terms(
        agreement_id=agreement_id,
        status="pending_signatures",
        parties=parties((UNIVERSITY, "university"), (MUNICIPALITY, "municipality")),
    )
    await apply(db, AGREEMENT_TERMINATED, terminated, 5)
    before = await stored(db, agreement_id)

    await apply(db, AGREEMENT_SIGNED, stale, 2)
    await apply(db, AGREEMENT_TERMINATED, stale, 5)  # same version, other content: a replay

    after = await stored(db, agreement_id)
    assert after == before
    assert after[0].status == "terminated"
    assert after[1] == {(UNIVERSITY, "university"), (REGION, "region")}


async def test_newer_version_replaces_party_rows(db: Database) -> None:
    agreement_id = uuid.uuid4()
    tripartite = parties(
        (UNIVERSITY, "university"), (REGION, "region"), (MUNICIPALITY, "municipality")
    )
    await apply(db, AGREEMENT_PROPOSED, terms(agreement_id=agreement_id, parties=tripartite), 1)
    await apply(db, AGREEMENT_SIGNED, terms(agreement_id=agreement_id, parties=BILATERAL), 2)

    row, party_rows = await stored(db, agreement_id)
    assert row.aggregate_version == 2
    assert party_rows == {(UNIVERSITY, "university"), (REGION, "region")}


async def test_amendment_adds_its_own_row_and_leaves_the_superseded_one(db: Database) -> None:
    original = terms(status="active")
    amendment = terms(
        series_id=original.series_id,
        version_number=2,
        supersedes_agreement_id=original.agreement_id,
        valid_from=date(2027, 7, 1),
    )
    await apply(db, AGREEMENT_ACTIVATED, original, 3)
    await apply(db, AGREEMENT_AMENDED, amendment, 1)

    original_row, _ = await stored(db, original.agreement_id)
    amendment_row, _ = await stored(db, amendment.agreement_id)
    # Not guessed: the original's effective_until shortens only through its own event.
    assert original_row.effective_until == date(2027, 12, 31)
    assert original_row.aggregate_version == 3
    assert amendment_row.series_id == original.series_id


# --- find_coverage equals the rule over the same terms ------------------------------------

SPRING = {"start": date(2027, 3, 1), "end": date(2027, 4, 30)}


def _scenarios() -> list[Any]:
    original = terms(effective_until=date(2027, 6, 30))
    amendment = terms(
        series_id=original.series_id,
        version_number=2,
        supersedes_agreement_id=original.agreement_id,
        valid_from=date(2027, 7, 1),
        programmes=["VSSJK", "FYSIO"],
    )
    gapped_original = terms(agreement_id=original.agreement_id, effective_until=date(2027, 6, 29))
    elsewhere = terms(parties=parties((UNIVERSITY, "university"), (MUNICIPALITY, "municipality")))
    swapped = terms(parties=parties((REGION, "university"), (UNIVERSITY, "region")))
    other_university = terms(parties=parties((OTHER_UNIVERSITY, "university"), (REGION, "region")))
    tripartite = parties(
        (UNIVERSITY, "university"), (REGION, "region"), (MUNICIPALITY, "municipality")
    )
    return [
        pytest.param([terms()], SPRING, "covered", id="one-active"),
        pytest.param([terms(status="terminated")], SPRING, "agreement_not_active", id="terminated"),
        pytest.param(
            [terms(status="draft"), terms(programmes=["LAKAR"]), elsewhere],
            SPRING,
            "programme_not_covered",
            id="nearest-refusal",
        ),
        pytest.param(
            [terms(valid_from=date(2026, 1, 1)), terms(valid_from=date(2027, 2, 1))],
            SPRING,
            "covered",
            id="latest-valid-from-wins",
        ),
        pytest.param(
            [original, amendment],
            {"start": date(2027, 8, 1), "end": date(2027, 9, 30), "programme_code": "FYSIO"},
            "covered",
            id="amendment-covers-after-its-valid-from",
        ),
        pytest.param(
            [original, amendment],
            {"start": date(2027, 6, 1), "end": date(2027, 7, 31)},
            "covered",  # consecutive versions of one series cover it together
            id="period-spanning-two-versions",
        ),
        pytest.param(
            [gapped_original, amendment],
            {"start": date(2027, 6, 1), "end": date(2027, 7, 31)},
            "dates_not_covered",  # 30 June is in neither version
            id="gap-between-two-versions",
        ),
        pytest.param(
            [elsewhere, swapped, other_university],
            SPRING,
            "no_agreement_between_parties",
            id="only-other-parties-or-roles",
        ),
        pytest.param(
            [terms(covered_municipality_codes=["0180"]), swapped],
            SPRING | {"municipality_code": "0114", "unit_id": UNIT},
            "place_not_covered",
            id="municipality-scope",
        ),
        pytest.param(
            [terms(parties=tripartite), terms(status="expired")],
            SPRING | {"provider_id": MUNICIPALITY},
            "covered",
            id="municipality-as-provider-in-tripartite",
        ),
        pytest.param([], SPRING, "no_agreement_between_parties", id="empty"),
    ]


@pytest.mark.parametrize(("agreement_list", "query_fields", "expected"), _scenarios())
async def test_find_coverage_decides_as_the_rule(
    db: Database,
    agreement_list: list[AgreementTermsV1],
    query_fields: dict[str, Any],
    expected: str,
) -> None:
    for agreement in agreement_list:
        await apply(db, AGREEMENT_ACTIVATED, agreement, 1)
    parties_and_programme: dict[str, Any] = {
        "university_id": UNIVERSITY,
        "provider_id": REGION,
        "programme_code": "VSSJK",
    }
    query = CoverageQuery(**(parties_and_programme | query_fields))

    async with db.read() as session:
        from_projection = await find_coverage(session, query)

    assert from_projection == decide_coverage(agreement_list, query)
    assert from_projection.reason == expected


# --- the running service over real NATS --------------------------------------------------


async def eventually(check: Callable[[], Awaitable[bool]], timeout: float = 30.0) -> None:
    """Poll ``check`` until true; fail after ``timeout`` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not await check():
        if loop.time() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        await asyncio.sleep(0.05)


@pytest.fixture
async def placements_client(
    database_url: str, nats_server: NatsServer, serve_app: Any, migrate_service: Any
) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the migrated placements service running with its consumers."""
    await migrate_service("placements", database_url)
    settings = Settings(
        database_url=database_url,
        nats_url=nats_server.url,
        internal_public_key=keypair()[1],
        log_level="WARNING",
    )
    async with (
        serve_app(create_app(settings)) as url,
        httpx.AsyncClient(base_url=url, timeout=httpx.Timeout(30.0)) as client,
    ):
        yield client


def coverage_params(**overrides: Any) -> dict[str, str]:
    params = {
        "university_id": str(UNIVERSITY),
        "provider_id": str(REGION),
        "programme_code": "VSSJK",
        "start": "2027-03-01",
        "end": "2027-04-30",
    }
    return params | overrides


async def test_coverage_follows_agreement_events_over_nats(
    placements_client: httpx.AsyncClient, nats_server: NatsServer
) -> None:
    nc = await nats.connect(nats_server.url)
    js = nc.jetstream()
    await ensure_stream(js, service_stream("agreements"))
    headers = identity_headers(roles={"admin"})  # asks about two universities

    async def publish(contract: EventContract, agreement: AgreementTermsV1, version: int) -> None:
        envelope, _ = event(contract, agreement, version)
        await js.publish(
            contract.event_type, envelope.to_bytes(), headers={"Nats-Msg-Id": str(envelope.id)}
        )

    async def coverage() -> dict[str, Any]:
        response = await placements_client.get(COVERAGE, params=coverage_params(), headers=headers)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def reason_is(expected: str) -> bool:
        return bool((await coverage())["reason"] == expected)

    agreement = terms()
    try:
        assert (await coverage())["reason"] == "no_agreement_between_parties"

        await publish(AGREEMENT_ACTIVATED, agreement, 3)
        await eventually(lambda: reason_is("covered"))
        assert await coverage() == {
            "covered": True,
            "reason": "covered",
            "detail": f"Covered by agreement {agreement.agreement_id}.",
            "agreement_id": str(agreement.agreement_id),
            "agreement_version_number": 1,
        }

        await publish(
            AGREEMENT_TERMINATED, terms(agreement_id=agreement.agreement_id, status="terminated"), 5
        )
        await eventually(lambda: reason_is("agreement_not_active"))

        # A stale activation arriving late must not revive the agreement. A later event of
        # another agreement marks that the consumer (in stream order) has passed it.
        marker = terms(parties=parties((OTHER_UNIVERSITY, "university"), (REGION, "region")))
        await publish(AGREEMENT_ACTIVATED, agreement, 4)
        await publish(AGREEMENT_ACTIVATED, marker, 1)
        other = coverage_params(university_id=str(OTHER_UNIVERSITY))

        async def marker_applied() -> bool:
            response = await placements_client.get(COVERAGE, params=other, headers=headers)
            return bool(response.json()["covered"])

        await eventually(marker_applied)
        body = await coverage()
        assert (body["covered"], body["reason"]) == (False, "agreement_not_active")
    finally:
        await nc.close()


@pytest.mark.parametrize(
    ("roles", "organisation", "status"),
    [
        ({"portal"}, UNIVERSITY, 403),
        ({"university"}, UNIVERSITY, 200),
        ({"provider"}, REGION, 200),
        ({"university"}, OTHER_UNIVERSITY, 403),  # not the university asked about
        ({"provider"}, OTHER_UNIVERSITY, 403),
        ({"coordinator"}, None, 403),
        ({"admin"}, None, 200),
    ],
)
async def test_coverage_endpoint_answers_only_the_parties_asked_about(
    placements_client: httpx.AsyncClient,
    roles: set[str],
    organisation: uuid.UUID | None,
    status: int,
) -> None:
    response = await placements_client.get(
        COVERAGE,
        params=coverage_params(),
        headers=identity_headers(roles=roles, organisation_id=organisation),
    )
    assert response.status_code == status, response.text
    if status == 403 and roles != {"portal"}:
        assert response.json()["code"] == "not_a_party"


async def test_coverage_endpoint_refuses_bad_requests(placements_client: httpx.AsyncClient) -> None:
    headers = identity_headers(roles={"university"}, organisation_id=UNIVERSITY)
    unauthenticated = await placements_client.get(COVERAGE, params=coverage_params())
    reversed_dates = await placements_client.get(
        COVERAGE, params=coverage_params(start="2027-04-30", end="2027-03-01"), headers=headers
    )
    unknown = await placements_client.get(
        COVERAGE, params=coverage_params(unknown="x"), headers=headers
    )
    missing = await placements_client.get(
        COVERAGE, params={"university_id": str(UNIVERSITY)}, headers=headers
    )
    assert unauthenticated.status_code == 401
    assert [reversed_dates.status_code, unknown.status_code, missing.status_code] == [422] * 3
    assert reversed_dates.headers["content-type"].startswith("application/problem+json")
