"""Agreements over HTTP on SQLite and PostgreSQL: lifecycle, refusals, amendments, coverage.

Time is moved with the feature's clock (``CALENDAR.set``) and the scheduler is ticked
directly, so no test sleeps.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from agreements.calendar import CALENDAR
from agreements.contracting.models import Agreement
from agreements.contracting.scheduler import AgreementScheduler
from sqlalchemy import func, select
from vfu_common.events.envelope import Envelope
from vfu_common.messaging.tables import outbox
from vfu_common.pagination import encode_cursor
from vfu_testing.tokens import identity_headers

API = "/api/v1/agreements/agreements"
COVERAGE = "/api/v1/agreements/coverage"
ORGANISATIONS = "/api/v1/agreements/organisations"
PROBLEM = "application/problem+json"
EVENT = "vfu.agreements.agreement.{}.v1"
TODAY = date(2027, 1, 11)
SHA = "ab" * 32

# Public organisation numbers from the bundled reference data.
ORGANISATION_BODIES = {
    "region": {
        "organisation_number": "2321000024",
        "kind": "region",
        "name": "Region Uppsala",
        "county_code": "03",
    },
    "municipality": {
        "organisation_number": "2120003005",
        "kind": "municipality",
        "name": "Uppsala kommun",
        "municipality_code": "0380",
    },
    "university": {
        "organisation_number": "2021002932",
        "kind": "university",
        "name": "Uppsala universitet",
        "municipality_code": "0380",
    },
    "outsider": {
        "organisation_number": "2021002973",
        "kind": "university",
        "name": "Karolinska institutet",
        "municipality_code": "0184",
    },
}
ROLE_OF_KIND = {"region": "provider", "municipality": "provider", "university": "university"}


@pytest.fixture(autouse=True)
def pinned_clock() -> Iterator[None]:
    CALENDAR.set(TODAY)
    yield
    CALENDAR.set(None)


class Parties:
    """The registered organisations of a test and headers to act as each."""

    def __init__(self, ids: dict[str, uuid.UUID]) -> None:
        self.ids = ids

    def headers(self, name: str) -> dict[str, str]:
        kind = ORGANISATION_BODIES[name]["kind"]
        return identity_headers(
            roles={ROLE_OF_KIND[kind]}, organisation_id=self.ids[name], subject=f"user-{name}"
        )

    def party(self, name: str) -> dict[str, str]:
        return {"organisation_id": str(self.ids[name]), "role": ORGANISATION_BODIES[name]["kind"]}


def admin() -> dict[str, str]:
    return identity_headers(roles={"admin"})


@pytest.fixture
async def parties(agreements_service: Any) -> Parties:
    ids = {}
    for name, body in ORGANISATION_BODIES.items():
        response = await agreements_service.client.post(ORGANISATIONS, json=body, headers=admin())
        assert response.status_code == 201, response.text
        ids[name] = uuid.UUID(response.json()["id"])
    return Parties(ids)


def draft(who: Parties, *names: str, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "agreement_type": "tripartite_vfu",
        "title": "VFU-avtal Uppsala",
        "parties": [who.party(n) for n in (names or ("region", "municipality", "university"))],
        "programmes": ["LAK", "SSK"],
        "covered_municipality_codes": ["0380"],
        "valid_from": TODAY.isoformat(),
        "valid_to": date(2029, 12, 31).isoformat(),
        "notice_period_months": 3,
        "supervision_requirement_level": "handledarutbildning-7.5hp",
        "quotas": [
            {
                "university_organisation_id": str(who.ids["university"]),
                "programme_code": "SSK",
                "term": "2027-VT",
                "unit": "student_weeks",
                "amount": 120,
                "kind": "ceiling",
            }
        ],
        "rates": [
            {
                "programme_code": "SSK",
                "basis": "per_student_week",
                "amount_ore": 150_000,
                "payer_organisation_id": str(who.ids["university"]),
                "payee_organisation_id": str(who.ids["region"]),
            }
        ],
        "documents": [{"title": "Avtal", "uri": "https://example.se/avtal.pdf", "sha256": SHA}],
    }
    body.update(overrides)
    return body


def assert_problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body: dict[str, Any] = response.json()
    assert body["code"] == code
    assert body["type"] == f"urn:vfu:problem:{code}"
    return body


async def agreement_events(service: Any) -> list[Envelope]:
    async with service.db.read() as session:
        rows = (await session.execute(select(outbox).order_by(outbox.c.seq))).all()
    envelopes = [Envelope.from_bytes(row.payload) for row in rows]
    return [e for e in envelopes if e.aggregatetype == "agreement"]


async def event_counts(service: Any) -> Counter[str]:
    return Counter(e.type.split(".")[3] for e in await agreement_events(service))


async def count_agreements(service: Any) -> int:
    async with service.db.read() as session:
        return int(await session.scalar(select(func.count()).select_from(Agreement)) or 0)


async def create(service: Any, who: Parties, as_: str = "university", **kw: Any) -> str:
    response = await service.client.post(API, json=draft(who, **kw), headers=who.headers(as_))
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def post(service: Any, agreement_id: str, action: str, headers: dict[str, str]) -> Any:
    return await service.client.post(f"{API}/{agreement_id}/{action}", headers=headers)


async def activate(service: Any, who: Parties, **kw: Any) -> str:
    agreement_id = await create(service, who, **kw)
    assert (await post(service, agreement_id, "propose", admin())).status_code == 200
    for party in draft(who, **kw)["parties"]:
        name = next(n for n, i in who.ids.items() if str(i) == party["organisation_id"])
        response = await post(service, agreement_id, "sign", who.headers(name))
        assert response.status_code == 200, response.text
    return agreement_id


def scheduler(service: Any) -> AgreementScheduler:
    return AgreementScheduler(service.db, reminder_days=60)


# --- lifecycle -----------------------------------------------------------------------------


async def test_draft_propose_sign_activate(agreements_service: Any, parties: Parties) -> None:
    service = agreements_service
    created = await service.client.post(
        API, json=draft(parties), headers=parties.headers("university")
    )
    assert created.status_code == 201, created.text
    body = created.json()
    agreement_id = body["id"]
    assert body["status"] == "draft"
    assert body["series_id"] == agreement_id
    assert body["version_number"] == 1
    assert body["version"] == 1
    assert [p["signed_at"] for p in body["parties"]] == [None, None, None]
    assert body["rates"][0]["amount_ore"] == 150_000
    assert body["documents"][0]["sha256"] == SHA
    assert body["quotas"][0]["kind"] == "ceiling"
    assert await agreement_events(service) == []  # a draft is private

    proposed = await post(service, agreement_id, "propose", parties.headers("region"))
    assert proposed.json()["status"] == "pending_signatures"

    first = await post(service, agreement_id, "sign", parties.headers("region"))
    assert first.status_code == 200, first.text
    assert first.json()["status"] == "pending_signatures"
    assert_problem(
        await post(service, agreement_id, "sign", parties.headers("region")), 409, "already_signed"
    )
    assert_problem(
        await post(service, agreement_id, "sign", parties.headers("outsider")), 403, "not_a_party"
    )
    # An admin is not a party either: nobody signs for another organisation.
    assert_problem(await post(service, agreement_id, "sign", admin()), 403, "not_a_party")

    await post(service, agreement_id, "sign", parties.headers("municipality"))
    last = await post(service, agreement_id, "sign", parties.headers("university"))
    assert last.json()["status"] == "active"
    assert all(p["signed_at"] for p in last.json()["parties"])
    signed_by = {p["organisation_id"]: p["signed_by"] for p in last.json()["parties"]}
    assert signed_by[str(parties.ids["region"])] == "user-region"

    events = await agreement_events(service)
    assert [e.type for e in events] == [
        EVENT.format(t) for t in ("proposed", "signed", "signed", "signed", "activated")
    ]
    versions = [e.aggregateversion for e in events]
    assert versions == sorted(set(versions))  # every event a newer aggregate version
    assert events[-1].aggregateversion == last.json()["version"]
    assert events[-1].data["status"] == "active"
    assert events[1].data["signer_organisation_id"] == str(parties.ids["region"])
    assert events[-1].data["rates"][0]["amount_ore"] == 150_000
    assert events[-1].data["quotas"][0]["kind"] == "ceiling"
    assert events[-1].data["covered_municipality_codes"] == ["0380"]


async def _coordinator(service: Any, number: str, municipality_code: str) -> dict[str, str]:
    body = {
        "organisation_number": number,
        "kind": "coordinating_body",
        "name": f"VFU-råd {municipality_code}",
        "municipality_code": municipality_code,
    }
    response = await service.client.post(ORGANISATIONS, json=body, headers=admin())
    assert response.status_code == 201, response.text
    return identity_headers(roles={"coordinator"}, organisation_id=uuid.UUID(response.json()["id"]))


async def test_coordinators_oversee_agreements_in_their_healthcare_region(
    agreements_service: Any, parties: Parties
) -> None:
    service = agreements_service
    agreement_id = await create(service, parties)  # Uppsala parties: Mellansverige
    inside = await _coordinator(service, "8020000017", "0380")  # Uppsala: Mellansverige
    outside = await _coordinator(service, "8020000025", "1280")  # Malmö: Södra
    assert (await service.client.get(f"{API}/{agreement_id}", headers=inside)).status_code == 200
    listed = await service.client.get(API, headers=inside)
    assert [a["id"] for a in listed.json()["items"]] == [agreement_id]
    assert_problem(
        await service.client.get(f"{API}/{agreement_id}", headers=outside), 403, "not_a_party"
    )
    assert (await service.client.get(API, headers=outside)).json()["items"] == []
    unattached = identity_headers(roles={"coordinator"})
    assert_problem(
        await service.client.get(f"{API}/{agreement_id}", headers=unattached), 403, "not_a_party"
    )
    # Overseeing is not signing: a coordinator never signs for a party.
    assert_problem(await post(service, agreement_id, "sign", inside), 403, "not_a_party")


async def test_reading_is_for_parties_and_stewards(
    agreements_service: Any, parties: Parties
) -> None:
    service = agreements_service
    agreement_id = await create(service, parties)
    for name in ("region", "university"):
        response = await service.client.get(f"{API}/{agreement_id}", headers=parties.headers(name))
        assert response.status_code == 200
    assert (await service.client.get(f"{API}/{agreement_id}", headers=admin())).status_code == 200
    outsider = await service.client.get(
        f"{API}/{agreement_id}", headers=parties.headers("outsider")
    )
    assert_problem(outsider, 403, "not_a_party")
    portal = identity_headers(roles={"portal"}, organisation_id=parties.ids["university"])
    assert_problem(
        await service.client.get(f"{API}/{agreement_id}", headers=portal), 403, "forbidden"
    )
    assert_problem(await service.client.get(API, headers=portal), 403, "forbidden")
    assert_problem(
        await service.client.get(f"{API}/{uuid.uuid4()}", headers=admin()),
        404,
        "agreement_not_found",
    )

    other = await create(service, parties, "region", programmes=["ARB"], rates=[], quotas=[])
    own = await service.client.get(API, headers=parties.headers("municipality"))
    assert {a["id"] for a in own.json()["items"]} == {agreement_id, other}
    none = await service.client.get(API, headers=parties.headers("outsider"))
    assert none.json() == {"items": [], "next_cursor": None}
    first = await service.client.get(API, params={"limit": 1}, headers=admin())
    assert len(first.json()["items"]) == 1
    second = await service.client.get(
        API, params={"limit": 1, "cursor": first.json()["next_cursor"]}, headers=admin()
    )
    assert second.json()["next_cursor"] is None
    ids = [first.json()["items"][0]["id"], second.json()["items"][0]["id"]]
    assert sorted(ids) == sorted([agreement_id, other])


async def test_all_signed_before_valid_from_waits_for_the_scheduler(
    agreements_service: Any, parties: Parties
) -> None:
    service = agreements_service
    starts = TODAY + timedelta(days=20)
    agreement_id = await activate(service, parties, valid_from=starts.isoformat())
    read = await service.client.get(f"{API}/{agreement_id}", headers=admin())
    assert read.json()["status"] == "pending_signatures"
    assert (await scheduler(service).tick(starts - timedelta(days=1))).activated == []

    CALENDAR.set(starts)
    report = await scheduler(service).tick()
    assert [str(a) for a in report.activated] == [agreement_id]
    assert (await scheduler(service).tick()).activated == []
    read = await service.client.get(f"{API}/{agreement_id}", headers=admin())
    assert read.json()["status"] == "active"
    assert (await event_counts(service))["activated"] == 1


@pytest.mark.stress
async def test_concurrent_last_signatures_activate_once(
    agreements_service: Any, parties: Parties
) -> None:
    service = agreements_service
    agreement_id = await create(service, parties)
    await post(service, agreement_id, "propose", admin())
    responses = await asyncio.gather(
        *(
            post(service, agreement_id, "sign", parties.headers(n))
            for n in ("region", "municipality", "university")
        )
    )
    assert [r.status_code for r in responses] == [200, 200, 200], [r.text for r in responses]
    counts = await event_counts(service)
    assert counts["signed"] == 3
    assert counts["activated"] == 1


async def test_abandon_before_active_only(agreements_service: Any, parties: Parties) -> None:
    service = agreements_service
    in_draft = await create(service, parties)
    assert (await post(service, in_draft, "abandon", parties.headers("region"))).json()[
        "status"
    ] == "abandoned"
    assert_problem(await post(service, in_draft, "propose", admin()), 409, "invalid_transition")
    pending = await create(service, parties)
    await post(service, pending, "propose", admin())
    assert (await post(service, pending, "abandon", admin())).json()["status"] == "abandoned"
    active = await activate(service, parties)
    body = assert_problem(
        await post(service, active, "abandon", admin()), 409, "invalid_transition"
    )
    assert "active" in body["detail"]
    assert_problem(
        await post(service, active, "abandon", parties.headers("outsider")), 403, "not_a_party"
    )
    assert (await event_counts(service))["abandoned"] == 2


async def test_transitions_not_allowed_from_the_state_are_409(
    agreements_service: Any, parties: Parties
) -> None:
    service = agreements_service
    agreement_id = await create(service, parties)
    for action in ("sign", "notice"):
        body = assert_problem(
            await post(service, agreement_id, action, parties.headers("region")),
            409,
            "invalid_transition",
        )
        assert "draft" in body["detail"]
    amend = await service.client.post(
        f"{API}/{agreement_id}/amend", json={"effective_from": "2028-01-01"}, headers=admin()
    )
    assert_problem(amend, 409, "invalid_transition")
    await post(service, agreement_id, "propose", admin())
    body = assert_problem(
        await post(service, agreement_id, "propose", admin()), 409, "invalid_transition"
    )
    assert "pending_signatures" in body["detail"]
    assert (await event_counts(service)) == Counter({"proposed": 1})


# --- refusals ------------------------------------------------------------------------------


async def test_bad_drafts_are_refused_and_store_nothing(
    agreements_service: Any, parties: Parties
) -> None:
    service = agreements_service
    uni = parties.headers("university")
    unknown = {"organisation_id": str(uuid.uuid4()), "role": "region"}
    cases: list[tuple[dict[str, Any], dict[str, str], int, str]] = [
        (draft(parties, "university"), uni, 422, "too_few_parties"),
        (draft(parties, parties=[]), admin(), 422, "too_few_parties"),
        (
            draft(parties, parties=[parties.party("university"), parties.party("university")]),
            uni,
            422,
            "duplicate_party",
        ),
        (
            draft(parties, parties=[parties.party("university"), unknown]),
            uni,
            422,
            "unknown_party_organisation",
        ),
        (
            draft(
                parties,
                parties=[
                    parties.party("university"),
                    {**parties.party("region"), "role": "municipality"},
                ],
            ),
            uni,
            422,
            "party_role_mismatch",
        ),
        (draft(parties, valid_to="2026-12-31"), uni, 422, "validation_error"),
        (
            draft(parties, rates=[{**draft(parties)["rates"][0], "programme_code": ""}]),
            uni,
            422,
            "validation_error",
        ),
        (
            draft(
                parties,
                rates=[
                    {k: v for k, v in draft(parties)["rates"][0].items() if k != "programme_code"}
                ],
            ),
            uni,
            422,
            "validation_error",
        ),
        (
            draft(parties, rates=[{**draft(parties)["rates"][0], "programme_code": "TAND"}]),
            uni,
            422,
            "rate_programme_not_in_scope",
        ),
        (
            draft(parties, quotas=[draft(parties)["quotas"][0]] * 2),
            uni,
            422,
            "duplicate_quota",
        ),
        (
            draft(parties, rates=[{**draft(parties)["rates"][0], "amount_ore": -1}]),
            uni,
            422,
            "validation_error",
        ),
        (
            draft(parties, rates=[{**draft(parties)["rates"][0], "amount_ore": 1.5}]),
            uni,
            422,
            "validation_error",
        ),
        (
            draft(
                parties,
                quotas=[
                    {
                        **draft(parties)["quotas"][0],
                        "university_organisation_id": str(parties.ids["region"]),
                    }
                ],
            ),
            uni,
            422,
            "quota_not_for_a_university_party",
        ),
        (
            draft(parties, documents=[{"title": "x", "uri": "https://e.se", "sha256": "zz" * 32}]),
            uni,
            422,
            "validation_error",
        ),
        (
            draft(parties, documents=[{"title": "x", "uri": "https://e.se", "sha256": "ab"}]),
            uni,
            422,
            "validation_error",
        ),
        (draft(parties, unknown_field=1), uni, 422, "validation_error"),
        (draft(parties), parties.headers("outsider"), 403, "not_a_party"),
        (draft(parties), identity_headers(roles={"portal"}), 403, "forbidden"),
    ]
    for body, headers, status, code in cases:
        assert_problem(await service.client.post(API, json=body, headers=headers), status, code)
    assert await count_agreements(service) == 0
    assert await agreement_events(service) == []


async def test_overlapping_agreements_are_409(agreements_service: Any, parties: Parties) -> None:
    service = agreements_service
    bilateral = ("region", "university")
    first = await create(
        service, parties, parties=[parties.party(n) for n in bilateral], valid_to="2027-12-31"
    )
    same = draft(
        parties, parties=[parties.party(n) for n in reversed(bilateral)], valid_from="2027-12-31"
    )
    body = assert_problem(
        await service.client.post(API, json=same, headers=admin()), 409, "overlapping_agreement"
    )
    assert first in body["detail"]
    assert await count_agreements(service) == 1

    # Another programme, later dates, or other parties do not overlap.
    other_programme = {**same, "programmes": ["ARB"], "rates": [], "quotas": []}
    later = {**same, "valid_from": "2028-01-01"}
    tripartite = draft(parties, valid_from="2027-06-01")
    for body in (other_programme, later, tripartite):
        response = await service.client.post(API, json=body, headers=admin())
        assert response.status_code == 201, response.text
    # Once the first is abandoned, its dates are free again.
    await post(service, first, "abandon", admin())
    again = {**same, "valid_to": "2027-12-31", "valid_from": "2027-02-01"}
    assert (await service.client.post(API, json=again, headers=admin())).status_code == 201


async def test_an_auto_renewing_agreement_overlaps_what_starts_after_its_valid_to(
    agreements_service: Any, parties: Parties
) -> None:
    """It runs on past valid_to by renewal, so a later one would overlap it after renewal."""
    service = agreements_service
    bilateral = [parties.party(n) for n in ("region", "university")]
    first = await create(
        service, parties, parties=bilateral, valid_to="2027-12-31", auto_renewal_months=12
    )
    later = draft(parties, parties=bilateral, valid_from="2028-01-01")
    body = assert_problem(
        await service.client.post(API, json=later, headers=admin()), 409, "overlapping_agreement"
    )
    assert first in body["detail"]
    # And an auto-renewing new agreement overlaps an existing one that starts later.
    await post(service, first, "abandon", admin())
    assert (await service.client.post(API, json=later, headers=admin())).status_code == 201
    renewing = draft(parties, parties=bilateral, valid_to="2027-12-31", auto_renewal_months=12)
    assert_problem(
        await service.client.post(API, json=renewing, headers=admin()),
        409,
        "overlapping_agreement",
    )


# --- notice, termination, expiry -----------------------------------------------------------


async def test_notice_then_termination(agreements_service: Any, parties: Parties) -> None:
    service = agreements_service
    agreement_id = await activate(service, parties)
    assert_problem(
        await post(service, agreement_id, "notice", parties.headers("outsider")), 403, "not_a_party"
    )
    response = await post(service, agreement_id, "notice", parties.headers("municipality"))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "notice_given"
    assert body["effective_until"] == "2027-04-11"
    assert body["notice_given_on"] == TODAY.isoformat()
    assert body["notice_given_by_organisation_id"] == str(parties.ids["municipality"])
    assert_problem(
        await post(service, agreement_id, "notice", parties.headers("region")),
        409,
        "invalid_transition",
    )

    (notice,) = [
        e for e in await agreement_events(service) if e.type == EVENT.format("notice_given")
    ]
    assert notice.data["effective_until"] == "2027-04-11"
    assert notice.data["notice_given_on"] == TODAY.isoformat()

    assert (await scheduler(service).tick(date(2027, 4, 11))).ended == []
    assert len((await scheduler(service).tick(date(2027, 4, 12))).ended) == 1
    assert (await scheduler(service).tick(date(2027, 4, 13))).ended == []
    read = await service.client.get(f"{API}/{agreement_id}", headers=admin())
    assert read.json()["status"] == "terminated"
    counts = await event_counts(service)
    assert (counts["terminated"], counts["expired"]) == (1, 0)


async def test_notice_ending_after_valid_to_is_409(
    agreements_service: Any, parties: Parties
) -> None:
    service = agreements_service
    agreement_id = await activate(service, parties, valid_to="2027-03-31")
    assert_problem(
        await post(service, agreement_id, "notice", parties.headers("region")),
        409,
        "notice_after_end",
    )
    read = await service.client.get(f"{API}/{agreement_id}", headers=admin())
    assert read.json()["status"] == "active"


async def test_reminder_once_then_expiry(agreements_service: Any, parties: Parties) -> None:
    service = agreements_service
    valid_to = date(2027, 6, 30)
    agreement_id = await activate(service, parties, valid_to=valid_to.isoformat())
    assert (await scheduler(service).tick(valid_to - timedelta(days=61))).reminded == []
    assert len((await scheduler(service).tick(valid_to - timedelta(days=60))).reminded) == 1
    assert (await scheduler(service).tick(valid_to - timedelta(days=59))).reminded == []
    assert (await scheduler(service).tick(valid_to)).ended == []
    assert len((await scheduler(service).tick(valid_to + timedelta(days=1))).ended) == 1
    events = await agreement_events(service)
    (reminder,) = [e for e in events if e.type == EVENT.format("expiry_upcoming")]
    assert reminder.data["days_left"] == 60
    assert events[-1].type == EVENT.format("expired")
    read = await service.client.get(f"{API}/{agreement_id}", headers=admin())
    assert read.json()["status"] == "expired"


# --- amendments ----------------------------------------------------------------------------


async def test_amendment_supersedes_from_its_date(
    agreements_service: Any, parties: Parties
) -> None:
    service = agreements_service
    v1 = await activate(service, parties)
    change = {"effective_from": "2028-01-01", "title": "VFU-avtal Uppsala, tillägg 1"}
    assert_problem(
        await service.client.post(
            f"{API}/{v1}/amend", json={"effective_from": TODAY.isoformat()}, headers=admin()
        ),
        409,
        "invalid_effective_date",
    )
    created = await service.client.post(
        f"{API}/{v1}/amend", json=change, headers=parties.headers("region")
    )
    assert created.status_code == 201, created.text
    v2 = created.json()
    assert (v2["status"], v2["version_number"], v2["series_id"]) == ("draft", 2, v1)
    assert v2["supersedes_agreement_id"] == v1
    assert v2["valid_from"] == "2028-01-01"
    assert v2["title"] == change["title"]
    assert v2["programmes"] == ["LAK", "SSK"]  # unchanged terms carry over
    assert v2["rates"][0]["amount_ore"] == 150_000
    assert all(p["signed_at"] is None for p in v2["parties"])
    again = await service.client.post(f"{API}/{v1}/amend", json=change, headers=admin())
    assert_problem(again, 409, "amendment_in_progress")

    await post(service, v2["id"], "propose", admin())
    for name in ("region", "municipality", "university"):
        await post(service, v2["id"], "sign", parties.headers(name))
    assert (await service.client.get(f"{API}/{v2['id']}", headers=admin())).json()[
        "status"
    ] == "pending_signatures"
    history = await service.client.get(
        f"{API}/{v2['id']}/history", headers=parties.headers("university")
    )
    assert [(h["version_number"], h["status"]) for h in history.json()] == [
        (1, "active"),
        (2, "pending_signatures"),
    ]

    await scheduler(service).tick(date(2028, 1, 1))
    history = await service.client.get(f"{API}/{v1}/history", headers=admin())
    old, new = history.json()
    assert (old["status"], old["effective_until"]) == ("expired", "2027-12-31")
    assert new["status"] == "active"
    counts = await event_counts(service)
    assert (counts["activated"], counts["amended"], counts["expired"]) == (2, 1, 1)
    (amended,) = [e for e in await agreement_events(service) if e.type == EVENT.format("amended")]
    assert amended.data["agreement_id"] == new["id"]
    assert amended.data["supersedes_agreement_id"] == v1
    assert amended.data["title"] == change["title"]


# --- coverage ------------------------------------------------------------------------------


async def test_coverage_on_edge_dates(agreements_service: Any, parties: Parties) -> None:
    service = agreements_service
    agreement_id = await activate(service, parties)
    until = (await post(service, agreement_id, "notice", parties.headers("region"))).json()[
        "effective_until"
    ]
    last = date.fromisoformat(until)

    async def ask(start: date, end: date, headers: dict[str, str] | None = None, **kw: Any) -> Any:
        params = {
            "university_id": str(parties.ids["university"]),
            "provider_id": str(parties.ids["region"]),
            "programme_code": "SSK",
            "start": start.isoformat(),
            "end": end.isoformat(),
            "municipality_code": "0380",
            **kw,
        }
        return await service.client.get(COVERAGE, params=params, headers=headers or admin())

    covered = (await ask(TODAY, last, parties.headers("university"))).json()
    assert (covered["covered"], covered["reason"]) == (True, "covered")
    assert covered["agreement"]["agreement_id"] == agreement_id
    assert covered["agreement"]["status"] == "notice_given"
    for start, end in ((TODAY - timedelta(days=1), last), (TODAY, last + timedelta(days=1))):
        refused = (await ask(start, end)).json()
        assert (refused["covered"], refused["reason"]) == (False, "dates_not_covered")
        assert refused["agreement"] is None
    assert (await ask(TODAY, last, programme_code="TAND")).json()[
        "reason"
    ] == "programme_not_covered"
    assert (await ask(TODAY, last, municipality_code="0184")).json()[
        "reason"
    ] == "place_not_covered"
    outsider = await ask(TODAY, last, university_id=str(parties.ids["outsider"]))
    assert outsider.json()["reason"] == "no_agreement_between_parties"
    assert_problem(await ask(TODAY, last, parties.headers("outsider")), 403, "not_a_party")
    assert_problem(await ask(last, TODAY), 422, "invalid_period")


async def test_a_tampered_list_cursor_is_400(agreements_service: Any, parties: Parties) -> None:
    service = agreements_service
    for position in ({"after": "not-a-uuid"}, {"elsewhere": 1}, {"after": None}):
        cursor = encode_cursor(position)
        response = await service.client.get(API, params={"cursor": cursor}, headers=admin())
        assert_problem(response, 400, "invalid_cursor")


async def test_amendment_activated_by_the_last_signature_ends_its_predecessor_at_once(
    agreements_service: Any, parties: Parties
) -> None:
    """Placements must learn the old version's shortened end from an event of its own."""
    service = agreements_service
    v1 = await activate(service, parties)
    effective = date(2028, 1, 1)
    created = await service.client.post(
        f"{API}/{v1}/amend",
        json={"effective_from": effective.isoformat(), "programmes": ["SSK"]},
        headers=admin(),
    )
    v2 = created.json()["id"]
    await post(service, v2, "propose", admin())
    await post(service, v2, "sign", parties.headers("region"))
    await post(service, v2, "sign", parties.headers("municipality"))
    CALENDAR.set(effective)
    last = await post(service, v2, "sign", parties.headers("university"))
    assert last.json()["status"] == "active"  # activated in the request, no scheduler tick

    old = (await service.client.get(f"{API}/{v1}", headers=admin())).json()
    assert (old["status"], old["effective_until"]) == ("expired", "2027-12-31")
    (expired,) = [e for e in await agreement_events(service) if e.type == EVENT.format("expired")]
    assert expired.aggregateid == v1
    assert expired.data["effective_until"] == "2027-12-31"
    assert expired.aggregateversion == old["version"]
