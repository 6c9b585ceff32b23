"""The audit log through the real agreements service, on SQLite and PostgreSQL (ADR 0011)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import pytest
from agreements.organisations.models import Organisation
from sqlalchemy import func, select, text
from vfu_common.audit.tables import audit_log
from vfu_testing.tokens import identity_headers

ORGANISATIONS = "/api/v1/agreements/organisations"
AUDIT = "/api/v1/agreements/audit"
UPPLANDS_VASBY = "2120000019"
UNIVERSITY = uuid.UUID("0190c3a0-0000-7000-8000-0000000000a1")
OTHER_UNIVERSITY = uuid.UUID("0190c3a0-0000-7000-8000-0000000000a2")


def admin(request_id: str) -> dict[str, str]:
    return {**identity_headers(roles={"admin"}, subject="ops"), "X-Request-ID": request_id}


def university(request_id: str, organisation_id: uuid.UUID = UNIVERSITY) -> dict[str, str]:
    headers = identity_headers(
        roles={"university"}, organisation_id=organisation_id, subject="registrar"
    )
    return {**headers, "X-Request-ID": request_id}


def municipality() -> dict[str, Any]:
    return {
        "organisation_number": UPPLANDS_VASBY,
        "kind": "municipality",
        "name": "Upplands Väsby kommun",
        "municipality_code": "0114",
    }


async def records(service: Any) -> list[Any]:
    async with service.db.read() as session:
        stmt = select(audit_log).order_by(audit_log.c.occurred_at, audit_log.c.id)
        return list((await session.execute(stmt)).all())


async def count_organisations(service: Any) -> int:
    async with service.db.read() as session:
        return int(await session.scalar(select(func.count()).select_from(Organisation)) or 0)


async def test_a_registration_leaves_one_succeeded_record(agreements_service: Any) -> None:
    client = agreements_service.client
    response = await client.post(ORGANISATIONS, json=municipality(), headers=admin("reg-1"))
    assert response.status_code == 201, response.text

    # Written before the first byte of the answer: no waiting needed.
    (record,) = await records(agreements_service)
    assert record.object_id == response.json()["id"]
    assert record.route == ORGANISATIONS
    assert (record.method, record.status, record.outcome) == ("POST", 201, "succeeded")
    assert (record.subject, record.roles, record.organisation_id) == ("ops", "admin", None)
    assert record.request_id == "reg-1" == response.headers["x-request-id"]

    organisation_id = response.json()["id"]
    changed = await client.patch(
        f"{ORGANISATIONS}/{organisation_id}", json={"name": "Väsby"}, headers=admin("chg-1")
    )
    assert changed.status_code == 200, changed.text
    change = (await records(agreements_service))[-1]
    assert change.route == ORGANISATIONS + "/{organisation_id}"
    assert (change.object_id, change.outcome) == (organisation_id, "succeeded")


async def test_refusals_are_recorded_and_change_nothing(agreements_service: Any) -> None:
    client = agreements_service.client
    forbidden = await client.post(ORGANISATIONS, json=municipality(), headers=university("no-1"))
    invalid = await client.post(
        ORGANISATIONS, json={**municipality(), "kind": "castle"}, headers=admin("no-2")
    )
    assert (forbidden.status_code, invalid.status_code) == (403, 422)

    assert await count_organisations(agreements_service) == 0
    refused, rejected = await records(agreements_service)
    assert (refused.status, refused.outcome, refused.request_id) == (403, "refused", "no-1")
    assert (refused.organisation_id, refused.roles) == (UNIVERSITY, "university")
    assert (rejected.status, rejected.outcome, rejected.request_id) == (422, "refused", "no-2")
    assert refused.object_id is None
    assert rejected.object_id is None


async def test_reads_leave_no_record(agreements_service: Any) -> None:
    client = agreements_service.client
    assert (await client.get(ORGANISATIONS, headers=admin("r-1"))).status_code == 200
    assert (await client.get(AUDIT, headers=admin("r-2"))).status_code == 200
    assert await records(agreements_service) == []


@pytest.mark.parametrize(
    "statement", ["UPDATE audit_log SET status = 200", "DELETE FROM audit_log"]
)
async def test_audit_records_cannot_be_changed_in_the_database(
    agreements_service: Any, statement: str
) -> None:
    await agreements_service.client.post(ORGANISATIONS, json=municipality(), headers=admin("k-1"))
    with pytest.raises(Exception, match="append-only"):
        async with agreements_service.db.write() as session:
            await session.execute(text(statement))
    (record,) = await records(agreements_service)
    assert record.status == 201


async def _leave_records(service: Any) -> None:
    """Three refusals by each of two universities, and one registration by an admin."""
    for n in range(3):
        for org in (UNIVERSITY, OTHER_UNIVERSITY):
            headers = university(f"u-{org.hex[-2:]}-{n}", org)
            await service.client.post(ORGANISATIONS, json=municipality(), headers=headers)
    await service.client.post(ORGANISATIONS, json=municipality(), headers=admin("a-1"))


async def test_admins_see_every_record_newest_first(agreements_service: Any) -> None:
    await _leave_records(agreements_service)
    response = await agreements_service.client.get(AUDIT, headers=admin("q-1"))
    assert response.status_code == 200, response.text
    items = response.json()["items"]
    assert len(items) == 7
    assert items[0]["request_id"] == "a-1"
    assert items[0]["roles"] == ["admin"]
    times = [datetime.fromisoformat(i["occurred_at"]) for i in items]
    assert times == sorted(times, reverse=True)
    only_other = await agreements_service.client.get(
        AUDIT, params={"organisation_id": str(OTHER_UNIVERSITY)}, headers=admin("q-2")
    )
    assert {i["organisation_id"] for i in only_other.json()["items"]} == {str(OTHER_UNIVERSITY)}


async def test_an_organisation_sees_only_its_own_records(agreements_service: Any) -> None:
    await _leave_records(agreements_service)
    client = agreements_service.client
    own = await client.get(AUDIT, headers=university("q-3"))
    assert own.status_code == 200, own.text
    assert len(own.json()["items"]) == 3
    assert {i["organisation_id"] for i in own.json()["items"]} == {str(UNIVERSITY)}

    other = await client.get(
        AUDIT, params={"organisation_id": str(OTHER_UNIVERSITY)}, headers=university("q-4")
    )
    assert other.status_code == 403
    assert other.json()["code"] == "forbidden"
    portal = await client.get(AUDIT, headers=identity_headers(roles={"portal"}))
    assert portal.status_code == 403


async def test_filters_by_object_and_time(agreements_service: Any) -> None:
    await _leave_records(agreements_service)
    client = agreements_service.client
    everything = (await client.get(AUDIT, headers=admin("q-5"))).json()["items"]
    created = everything[0]
    by_object = await client.get(
        AUDIT, params={"object_id": created["object_id"]}, headers=admin("q-6")
    )
    assert [i["id"] for i in by_object.json()["items"]] == [created["id"]]
    since = await client.get(AUDIT, params={"since": created["occurred_at"]}, headers=admin("q-7"))
    assert [i["id"] for i in since.json()["items"]] == [created["id"]]
    until = await client.get(AUDIT, params={"until": created["occurred_at"]}, headers=admin("q-8"))
    assert [i["id"] for i in until.json()["items"]] == [i["id"] for i in everything[1:]]


async def test_pages_walk_every_record_once(agreements_service: Any) -> None:
    await _leave_records(agreements_service)
    seen: list[str] = []
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = await agreements_service.client.get(AUDIT, params=params, headers=admin("p"))
        assert page.status_code == 200, page.text
        seen.extend(item["id"] for item in page.json()["items"])
        cursor = page.json().get("next_cursor")
        if cursor is None:
            break
    stored = [str(r.id) for r in reversed(await records(agreements_service))]
    assert seen == stored
    assert len(set(seen)) == 7
