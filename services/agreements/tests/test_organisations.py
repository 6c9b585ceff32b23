"""Registering and reading organisations through the real service, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import datetime
from typing import Any

import httpx
import pytest
from agreements.organisations.models import Organisation
from sqlalchemy import func, select
from vfu_common.events.envelope import Envelope
from vfu_common.messaging.tables import outbox
from vfu_domain.identifiers import luhn_check_digit
from vfu_testing.tokens import identity_headers

PROBLEM = "application/problem+json"
ORGANISATIONS = "/api/v1/agreements/organisations"
SUBJECT = "vfu.agreements.organisation.registered.v1"
# Public organisation numbers of public bodies (bundled reference data): no personal data.
UPPLANDS_VASBY = "2120000019"
VALLENTUNA = "2120000027"
TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


def admin() -> dict[str, str]:
    return identity_headers(roles={"admin"})


def municipality(number: Any = UPPLANDS_VASBY, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "organisation_number": number,
        "kind": "municipality",
        "name": "Upplands Väsby kommun",
        "municipality_code": "0114",
    }
    body.update(overrides)
    return body


async def count_organisations(service: Any) -> int:
    async with service.db.read() as session:
        return int(await session.scalar(select(func.count()).select_from(Organisation)) or 0)


async def outbox_rows(service: Any) -> list[Any]:
    async with service.db.read() as session:
        result = await session.execute(select(outbox).order_by(outbox.c.seq))
        return list(result.all())


async def assert_nothing_stored(service: Any) -> None:
    assert await count_organisations(service) == 0
    assert await outbox_rows(service) == []


def assert_problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["code"] == code
    assert body["type"].endswith(code)
    assert "Traceback" not in response.text
    return body


def with_check_digit(nine: str) -> str:
    return nine + str(luhn_check_digit(nine))


# --- registering ----------------------------------------------------------------------------


async def test_admin_registers_an_organisation(agreements_service: Any) -> None:
    headers = {**admin(), "X-Request-ID": "register-1", "traceparent": TRACEPARENT}
    response = await agreements_service.client.post(
        ORGANISATIONS, json=municipality(), headers=headers
    )

    assert response.status_code == 201, response.text
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    organisation_id = uuid.UUID(body["id"])
    assert organisation_id.version == 7
    assert body["organisation_number"] == UPPLANDS_VASBY
    assert body["kind"] == "municipality"
    assert body["name"] == "Upplands Väsby kommun"
    assert body["municipality_code"] == "0114"
    assert body["version"] == 1
    created = datetime.fromisoformat(body["created_at"])
    assert created.utcoffset() is not None
    assert created.utcoffset().total_seconds() == 0  # type: ignore[union-attr]
    assert body["updated_at"] == body["created_at"]
    assert set(body) == {
        "id",
        "organisation_number",
        "kind",
        "name",
        "municipality_code",
        "county_code",
        "hsa_id",
        "healthcare_regions",
        "version",
        "created_at",
        "updated_at",
    }
    assert body["county_code"] == "01"
    assert body["hsa_id"] is None
    assert body["healthcare_regions"] == ["Stockholm"]

    assert await count_organisations(agreements_service) == 1
    (row,) = await outbox_rows(agreements_service)
    assert row.subject == SUBJECT
    envelope = Envelope.from_bytes(row.payload)
    assert envelope.id == row.event_id
    assert envelope.type == SUBJECT
    assert envelope.aggregateid == str(organisation_id)
    assert envelope.aggregatetype == "organisation"
    assert envelope.aggregateversion == 1
    assert envelope.correlationid == "register-1"
    assert envelope.traceparent == TRACEPARENT
    assert envelope.data == {
        "organisation_id": str(organisation_id),
        "organisation_number": UPPLANDS_VASBY,
        "kind": "municipality",
        "name": "Upplands Väsby kommun",
        "municipality_code": "0114",
        "county_code": "01",
        "hsa_id": None,
        "healthcare_regions": ["Stockholm"],
    }


async def test_hyphenated_number_is_stored_as_ten_digits(agreements_service: Any) -> None:
    response = await agreements_service.client.post(
        ORGANISATIONS,
        json={
            "organisation_number": "232100-0016",
            "kind": "region",
            "name": "Region Stockholm",
            "county_code": "01",
        },
        headers=admin(),
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["organisation_number"] == "2321000016"
    assert body["municipality_code"] is None
    (row,) = await outbox_rows(agreements_service)
    assert json.loads(row.payload)["data"]["organisation_number"] == "2321000016"


INVALID_NUMBERS = {
    "bad-luhn": "2120000018",
    "third-digit-0": with_check_digit("550000123"),
    "third-digit-1": with_check_digit("551000123"),
    "nine-digits": "212000001",
    "eleven-digits": "21200000190",
    "letters": "21200000AB",
    "all-letters": "abcdefghij",
    "hyphen-misplaced": "21200-00019",
    "spaces": "212000 0019",
    "full-width-digits": "".join(chr(0xFF10 + int(d)) for d in UPPLANDS_VASBY),
    "empty": "",
}


async def test_invalid_organisation_numbers_are_422_and_store_nothing(
    agreements_service: Any,
) -> None:
    client = agreements_service.client
    for case, number in INVALID_NUMBERS.items():
        response = await client.post(ORGANISATIONS, json=municipality(number), headers=admin())
        body = assert_problem(response, 422, "validation_error")
        locations = [error["loc"] for error in body["errors"]]
        assert ["body", "organisation_number"] in locations, (case, locations)
    response = await client.post(ORGANISATIONS, json=municipality(12), headers=admin())
    assert_problem(response, 422, "validation_error")
    await assert_nothing_stored(agreements_service)


async def test_invalid_fields_are_422_and_store_nothing(agreements_service: Any) -> None:
    cases: dict[str, tuple[dict[str, Any], str]] = {
        "unknown-municipality": (municipality(municipality_code="9999"), "municipality_code"),
        "short-municipality": (municipality(municipality_code="114"), "municipality_code"),
        "unknown-kind": (municipality(kind="hospital"), "kind"),
        "kind-case": (municipality(kind="Municipality"), "kind"),
        "extra-field": (municipality(is_admin=True), "is_admin"),
        "id-supplied": (municipality(id=str(uuid.uuid4())), "id"),
        "empty-name": (municipality(name=""), "name"),
        "long-name": (municipality(name="x" * 201), "name"),
    }
    client = agreements_service.client
    for case, (payload, field) in cases.items():
        response = await client.post(ORGANISATIONS, json=payload, headers=admin())
        body = assert_problem(response, 422, "validation_error")
        assert ["body", field] in [error["loc"] for error in body["errors"]], case
    missing = {k: v for k, v in municipality().items() if k != "name"}
    response = await client.post(ORGANISATIONS, json=missing, headers=admin())
    assert_problem(response, 422, "validation_error")
    response = await client.post(
        ORGANISATIONS,
        content=b"{not json",
        headers={**admin(), "content-type": "application/json"},
    )
    assert_problem(response, 422, "validation_error")
    await assert_nothing_stored(agreements_service)


async def test_the_same_number_twice_is_409(agreements_service: Any) -> None:
    client = agreements_service.client
    first = await client.post(ORGANISATIONS, json=municipality(), headers=admin())
    assert first.status_code == 201, first.text
    winner = first.json()["id"]

    # Also when written with a hyphen, and under another name and kind.
    for number in (UPPLANDS_VASBY, "212000-0019"):
        again = await client.post(
            ORGANISATIONS, json=municipality(number, name="Another", kind="region"), headers=admin()
        )
        body = assert_problem(again, 409, "organisation_exists")
        assert winner in body["detail"]

    assert await count_organisations(agreements_service) == 1
    rows = await outbox_rows(agreements_service)
    assert [row.subject for row in rows] == [SUBJECT]

    other = await client.post(ORGANISATIONS, json=municipality(VALLENTUNA), headers=admin())
    assert other.status_code == 201, other.text
    assert await count_organisations(agreements_service) == 2
    assert len(await outbox_rows(agreements_service)) == 2


@pytest.mark.stress
async def test_concurrent_registrations_of_one_number_make_one_organisation(
    agreements_service: Any,
) -> None:
    client = agreements_service.client
    responses = await asyncio.gather(
        *(
            client.post(ORGANISATIONS, json=municipality(name=f"Attempt {i}"), headers=admin())
            for i in range(20)
        )
    )
    statuses = sorted(response.status_code for response in responses)
    assert statuses == [201] + [409] * 19, [r.text for r in responses if r.status_code >= 500]
    (winner,) = [r.json() for r in responses if r.status_code == 201]
    for response in responses:
        if response.status_code == 409:
            assert_problem(response, 409, "organisation_exists")

    assert await count_organisations(agreements_service) == 1
    (row,) = await outbox_rows(agreements_service)
    assert row.subject == SUBJECT
    assert Envelope.from_bytes(row.payload).aggregateid == winner["id"]
    read = await client.get(f"{ORGANISATIONS}/{winner['id']}", headers=admin())
    assert read.json()["name"] == winner["name"]


@pytest.mark.stress
async def test_concurrent_conflicts_name_the_registered_organisation(
    agreements_service: Any,
) -> None:
    client = agreements_service.client
    responses = await asyncio.gather(
        *(client.post(ORGANISATIONS, json=municipality(), headers=admin()) for _ in range(10))
    )
    (winner,) = [r.json()["id"] for r in responses if r.status_code == 201]
    details = [r.json()["detail"] for r in responses if r.status_code == 409]
    assert len(details) == 9
    wrong = [detail for detail in details if winner not in detail]
    assert not wrong


async def test_only_admins_register_organisations(agreements_service: Any) -> None:
    client = agreements_service.client
    for roles in ({"university"}, {"provider"}, {"portal"}, {"coordinator"}, set()):
        headers = identity_headers(roles=roles, organisation_id=uuid.uuid4())
        response = await client.post(ORGANISATIONS, json=municipality(), headers=headers)
        assert_problem(response, 403, "forbidden")
    await assert_nothing_stored(agreements_service)


# --- reading --------------------------------------------------------------------------------


async def test_read_an_organisation_by_id(agreements_service: Any) -> None:
    client = agreements_service.client
    created = await client.post(ORGANISATIONS, json=municipality(), headers=admin())
    assert created.status_code == 201
    organisation_id = created.json()["id"]

    for roles in ({"admin"}, {"university"}, {"portal"}):
        response = await client.get(
            f"{ORGANISATIONS}/{organisation_id}", headers=identity_headers(roles=roles)
        )
        assert response.status_code == 200, response.text
        assert response.json() == created.json()


async def test_unknown_organisation_is_404(agreements_service: Any) -> None:
    unknown = uuid.uuid4()
    response = await agreements_service.client.get(f"{ORGANISATIONS}/{unknown}", headers=admin())
    body = assert_problem(response, 404, "organisation_not_found")
    assert str(unknown) in body["detail"]


async def test_malformed_organisation_id_is_422(agreements_service: Any) -> None:
    response = await agreements_service.client.get(f"{ORGANISATIONS}/not-a-uuid", headers=admin())
    assert_problem(response, 422, "validation_error")
