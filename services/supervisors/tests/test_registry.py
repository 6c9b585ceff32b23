"""The supervisor registry over HTTP: registration, validation, changes, deregistration."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
from sqlalchemy import func, select
from supervisors.registry.models import supervisor_units, supervisors
from vfu_common.events.contracts import SupervisorChangedV1, SupervisorRegisteredV1

from services.supervisors.tests.conftest import (
    ADMIN,
    EMPLOYER,
    MUNICIPALITY,
    OTHER_EMPLOYER,
    REGION_ID,
    RunningService,
)
from services.supervisors.tests.registry_kit import (
    events_of,
    register,
    supervisor_body,
    supervisor_row,
)

UNIT_A = uuid.UUID("00000000-0000-7000-9000-00000000000a")
UNIT_B = uuid.UUID("00000000-0000-7000-9000-00000000000b")


async def count_supervisors(service: RunningService) -> int:
    async with service.db.read() as session:
        return int(await session.scalar(select(func.count()).select_from(supervisors)) or 0)


async def test_provider_registers_own_supervisor(supervisors_service: RunningService) -> None:
    body = await register(supervisors_service, unit_ids=[str(UNIT_B), str(UNIT_A), str(UNIT_A)])

    assert body["employer_id"] == str(REGION_ID)
    assert body["name"] == "Handledare Test 1"
    assert body["hsa_id"] == "SE2321000016-S001"
    assert body["employer_reference"] == "EMP-0001"
    assert body["profession_code"] == "sjukskoterska"
    assert body["unit_ids"] == [str(UNIT_A), str(UNIT_B)]  # distinct, ordered
    assert body["roles"] == ["handledare"]
    assert body["max_concurrent_students"] == 2
    assert body["active"] is True
    assert body["licence_verified_on"] == "2020-06-01"
    # No training yet: not qualified against the default level.
    assert body["qualified"] is False
    assert body["level_achieved"] is None
    assert body["required_level"] == "basic"
    assert body["qualification_reason"] == "training_below_requirement"
    assert body["current_students"] == 0
    assert body["history"] == {"placements_supervised": 0, "student_weeks": 0}
    assert body["version"] == 1

    [event] = await events_of(supervisors_service.db, body["id"], ".supervisor.registered.v1")
    payload = SupervisorRegisteredV1.model_validate(event.data)
    assert payload.supervisor_id == uuid.UUID(body["id"])
    assert payload.unit_ids == [UNIT_A, UNIT_B]
    assert payload.qualified is False
    assert payload.required_level == "basic"
    assert event.aggregateversion == 1
    assert event.aggregatetype == "supervisor"
    # Events carry ids, profession and qualification only.
    assert not {"name", "hsa_id", "employer_reference", "roles"} & set(event.data)
    assert "Handledare Test 1" not in str(event.data)


async def test_admin_registers_for_named_employer(supervisors_service: RunningService) -> None:
    body = await register(supervisors_service, ADMIN, employer_id=str(MUNICIPALITY.organisation_id))
    assert body["employer_id"] == str(MUNICIPALITY.organisation_id)

    response = await supervisors_service.call(
        ADMIN, "POST", "/supervisors", json=supervisor_body(2)
    )
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "employer_id_required"


async def test_provider_cannot_register_for_another_employer(
    supervisors_service: RunningService,
) -> None:
    response = await supervisors_service.call(
        EMPLOYER,
        "POST",
        "/supervisors",
        json=supervisor_body(employer_id=str(OTHER_EMPLOYER.organisation_id)),
    )
    assert response.status_code == 403, response.text
    assert response.json()["code"] == "not_employer"
    assert await count_supervisors(supervisors_service) == 0


@pytest.mark.parametrize(
    ("overrides", "code", "error_type"),
    [
        ({"profession_code": "trollkarl"}, "unknown_profession", "unknown_profession"),
        ({"hsa_id": "SE123-1"}, "validation_error", "invalid_hsa_id"),
        (
            {"licence_verified": False, "licence_verified_on": "2020-01-01"},
            "validation_error",
            "licence_date_without_licence",
        ),
        ({"max_concurrent_students": 0}, "validation_error", "greater_than_equal"),
        ({"max_concurrent_students": 21}, "validation_error", "less_than_equal"),
        ({"roles": ["boss"]}, "validation_error", "literal_error"),
        ({"name": "  "}, "validation_error", "string_too_short"),
        ({"unknown_field": 1}, "validation_error", "extra_forbidden"),
    ],
)
async def test_bad_registrations_are_refused_with_a_code(
    supervisors_service: RunningService, overrides: dict[str, Any], code: str, error_type: str
) -> None:
    response = await supervisors_service.call(
        EMPLOYER, "POST", "/supervisors", json=supervisor_body(**overrides)
    )
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["code"] == code
    assert error_type in {e["type"] for e in problem["errors"]}
    assert await count_supervisors(supervisors_service) == 0


async def test_duplicate_hsa_id_and_employer_reference(
    supervisors_service: RunningService,
) -> None:
    await register(supervisors_service)

    same_hsa = await supervisors_service.call(
        OTHER_EMPLOYER, "POST", "/supervisors", json=supervisor_body(2, hsa_id="SE2321000016-S001")
    )
    assert same_hsa.status_code == 409, same_hsa.text
    assert same_hsa.json()["code"] == "hsa_id_taken"

    same_reference = await supervisors_service.call(
        EMPLOYER, "POST", "/supervisors", json=supervisor_body(3, employer_reference="EMP-0001")
    )
    assert same_reference.status_code == 409, same_reference.text
    assert same_reference.json()["code"] == "employer_reference_taken"

    # The reference is the employer's own: another employer may use the same one.
    await register(supervisors_service, OTHER_EMPLOYER, 4, employer_reference="EMP-0001")
    assert await count_supervisors(supervisors_service) == 2


@pytest.mark.stress
async def test_concurrent_duplicates_store_one_supervisor(
    supervisors_service: RunningService,
) -> None:
    responses = await asyncio.gather(
        *(
            supervisors_service.call(
                EMPLOYER,
                "POST",
                "/supervisors",
                json=supervisor_body(n, hsa_id="SE2321000016-S999"),
            )
            for n in range(1, 7)
        )
    )
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201, 409, 409, 409, 409, 409], [r.text for r in responses]
    assert {r.json()["code"] for r in responses if r.status_code == 409} == {"hsa_id_taken"}
    assert await count_supervisors(supervisors_service) == 1


async def test_patch_changes_fields_and_emits_changed_only_for_visible_fields(
    supervisors_service: RunningService,
) -> None:
    created = await register(supervisors_service)
    path = f"/supervisors/{created['id']}"

    renamed = await supervisors_service.call(
        EMPLOYER, "PATCH", path, json={"name": "Handledare Test 1b", "roles": ["huvudhandledare"]}
    )
    assert renamed.status_code == 200, renamed.text
    assert renamed.json()["name"] == "Handledare Test 1b"
    assert renamed.json()["roles"] == ["huvudhandledare"]
    assert await events_of(supervisors_service.db, created["id"], ".supervisor.changed.v1") == []

    moved = await supervisors_service.call(
        EMPLOYER, "PATCH", path, json={"unit_ids": [str(UNIT_A)], "max_concurrent_students": 4}
    )
    assert moved.status_code == 200, moved.text
    assert moved.json()["unit_ids"] == [str(UNIT_A)]
    [event] = await events_of(supervisors_service.db, created["id"], ".supervisor.changed.v1")
    payload = SupervisorChangedV1.model_validate(event.data)
    assert payload.unit_ids == [UNIT_A]
    assert payload.max_concurrent_students == 4
    assert event.aggregateversion == moved.json()["version"]

    async with supervisors_service.db.read() as session:
        stored_units = (
            await session.execute(
                select(supervisor_units.c.unit_id).where(
                    supervisor_units.c.supervisor_id == uuid.UUID(created["id"])
                )
            )
        ).scalars()
        assert list(stored_units) == [UNIT_A]


async def test_patch_validates_the_merged_state(supervisors_service: RunningService) -> None:
    created = await register(supervisors_service, licence_verified=False, licence_verified_on=None)
    path = f"/supervisors/{created['id']}"

    date_only = await supervisors_service.call(
        EMPLOYER, "PATCH", path, json={"licence_verified_on": "2021-01-01"}
    )
    assert date_only.status_code == 422, date_only.text
    assert date_only.json()["errors"][0]["type"] == "licence_date_without_licence"

    verified = await supervisors_service.call(
        EMPLOYER,
        "PATCH",
        path,
        json={"licence_verified": True, "licence_verified_on": "2021-01-01"},
    )
    assert verified.status_code == 200, verified.text
    # Revoking the licence drops its date.
    revoked = await supervisors_service.call(
        EMPLOYER, "PATCH", path, json={"licence_verified": False}
    )
    assert revoked.status_code == 200, revoked.text
    assert revoked.json()["licence_verified_on"] is None
    row = await supervisor_row(supervisors_service.db, created["id"])
    assert row["licence_verified"] is False
    assert row["licence_verified_on"] is None


async def test_patch_refuses_taken_identifiers(supervisors_service: RunningService) -> None:
    await register(supervisors_service, n=1)
    second = await register(supervisors_service, n=2)
    path = f"/supervisors/{second['id']}"
    taken_hsa = await supervisors_service.call(
        EMPLOYER, "PATCH", path, json={"hsa_id": "SE2321000016-S001"}
    )
    assert taken_hsa.status_code == 409
    assert taken_hsa.json()["code"] == "hsa_id_taken"
    taken_ref = await supervisors_service.call(
        EMPLOYER, "PATCH", path, json={"employer_reference": "EMP-0001"}
    )
    assert taken_ref.status_code == 409
    assert taken_ref.json()["code"] == "employer_reference_taken"
    cleared = await supervisors_service.call(EMPLOYER, "PATCH", path, json={"hsa_id": None})
    assert cleared.status_code == 200, cleared.text
    assert cleared.json()["hsa_id"] is None


async def test_deregistered_supervisor_stays_readable_but_frozen(
    supervisors_service: RunningService,
) -> None:
    created = await register(supervisors_service)
    path = f"/supervisors/{created['id']}"

    gone = await supervisors_service.call(EMPLOYER, "POST", path + "/deregister")
    assert gone.status_code == 200, gone.text
    assert gone.json()["active"] is False
    [event] = await events_of(supervisors_service.db, created["id"], ".supervisor.changed.v1")
    assert SupervisorChangedV1.model_validate(event.data).active is False

    read = await supervisors_service.call(EMPLOYER, "GET", path)
    assert read.status_code == 200
    assert read.json()["active"] is False
    for method, suffix, body in (("PATCH", "", {"name": "X"}), ("POST", "/deregister", None)):
        response = await supervisors_service.call(EMPLOYER, method, path + suffix, json=body)
        assert response.status_code == 409, response.text
        assert response.json()["code"] == "supervisor_deregistered"


async def test_other_provider_cannot_change_or_deregister(
    supervisors_service: RunningService,
) -> None:
    created = await register(supervisors_service)
    path = f"/supervisors/{created['id']}"
    for method, suffix, body in (("PATCH", "", {"name": "X"}), ("POST", "/deregister", None)):
        response = await supervisors_service.call(OTHER_EMPLOYER, method, path + suffix, json=body)
        assert response.status_code == 404, response.text
        assert response.json()["code"] == "supervisor_not_found"
    assert (await supervisor_row(supervisors_service.db, created["id"]))["active"] is True


async def test_list_filters_and_paginates(supervisors_service: RunningService) -> None:
    first = await register(supervisors_service, n=1, unit_ids=[str(UNIT_A)])
    second = await register(supervisors_service, n=2, profession_code="lakare")
    third = await register(supervisors_service, n=3, unit_ids=[str(UNIT_A), str(UNIT_B)])
    await register(supervisors_service, OTHER_EMPLOYER, n=4)

    async def ids(actor: Any = ADMIN, **params: Any) -> list[str]:
        response = await supervisors_service.call(actor, "GET", "/supervisors", params=params)
        assert response.status_code == 200, response.text
        return [item["id"] for item in response.json()["items"]]

    assert await ids(EMPLOYER) == [first["id"], second["id"], third["id"]]
    assert await ids(employer_id=str(REGION_ID)) == [first["id"], second["id"], third["id"]]
    assert await ids(unit_id=str(UNIT_A)) == [first["id"], third["id"]]
    assert await ids(profession_code="lakare") == [second["id"]]
    assert await ids(qualified="true") == []
    assert len(await ids(qualified="false")) == 4

    page1 = await supervisors_service.call(EMPLOYER, "GET", "/supervisors", params={"limit": 2})
    assert [i["id"] for i in page1.json()["items"]] == [first["id"], second["id"]]
    cursor = page1.json()["next_cursor"]
    page2 = await supervisors_service.call(
        EMPLOYER, "GET", "/supervisors", params={"limit": 2, "cursor": cursor}
    )
    assert [i["id"] for i in page2.json()["items"]] == [third["id"]]
    assert page2.json()["next_cursor"] is None

    bad = await supervisors_service.call(
        EMPLOYER, "GET", "/supervisors", params={"cursor": "not-a-cursor"}
    )
    assert bad.status_code == 400
    assert bad.json()["code"] == "invalid_cursor"


async def test_unknown_supervisor_is_404(supervisors_service: RunningService) -> None:
    response = await supervisors_service.call(ADMIN, "GET", f"/supervisors/{uuid.uuid4()}")
    assert response.status_code == 404
    assert response.json()["code"] == "supervisor_not_found"
