"""The assignment projection: load and supervision history from placements' events."""

from __future__ import annotations

import uuid
from typing import Any

import nats
from vfu_common.events.contracts import (
    SUPERVISOR_ASSIGNED,
    SUPERVISOR_RELEASED,
    EventContract,
    EventPayload,
)
from vfu_common.events.streams import ensure_stream, service_stream
from vfu_common.messaging.outbox import build_envelope
from vfu_devrun.processes import NatsServer

from services.supervisors.tests.conftest import EMPLOYER, RunningService, deliver
from services.supervisors.tests.registry_kit import (
    assignment,
    assignment_rows,
    eventually,
    register,
    released,
)


async def load_of(service: RunningService, supervisor_id: str) -> tuple[int, dict[str, Any]]:
    response = await service.call(EMPLOYER, "GET", f"/supervisors/{supervisor_id}")
    assert response.status_code == 200, response.text
    body = response.json()
    return body["current_students"], body["history"]


async def test_load_and_history_follow_assignments(supervisors_service: RunningService) -> None:
    sid = (await register(supervisors_service))["id"]
    db = supervisors_service.db
    first = assignment(sid, students=2, model="peer_2_to_1")
    second = assignment(sid, students=1)
    third = assignment(sid, students=1)
    for payload in (first, second, third):
        await deliver(db, SUPERVISOR_ASSIGNED, payload, aggregate_id=payload.assignment_id)
    assert await load_of(supervisors_service, sid) == (
        4,
        {"placements_supervised": 0, "student_weeks": 0},
    )

    await deliver(
        db,
        SUPERVISOR_RELEASED,
        released(first, student_weeks=18),
        aggregate_id=first.assignment_id,
        version=2,
    )
    # A cancelled placement frees the supervisor but supervised nobody.
    await deliver(
        db,
        SUPERVISOR_RELEASED,
        released(second, "booking_cancelled", 0),
        aggregate_id=second.assignment_id,
        version=2,
    )
    assert await load_of(supervisors_service, sid) == (
        1,
        {"placements_supervised": 1, "student_weeks": 18},
    )
    rows = {r["assignment_id"]: r for r in await assignment_rows(db)}
    assert rows[first.assignment_id]["status"] == "released"
    assert rows[first.assignment_id]["release_reason"] == "booking_completed"
    assert rows[second.assignment_id]["student_weeks"] == 0
    assert rows[third.assignment_id]["status"] == "active"
    assert rows[third.assignment_id]["release_reason"] is None

    listed = await supervisors_service.call(EMPLOYER, "GET", "/supervisors")
    assert listed.json()["items"][0]["current_students"] == 1
    assert listed.json()["items"][0]["history"]["student_weeks"] == 18


async def test_out_of_order_and_duplicate_events_change_nothing(
    supervisors_service: RunningService,
) -> None:
    sid = (await register(supervisors_service))["id"]
    db = supervisors_service.db
    payload = assignment(sid, students=2)
    ended = released(payload, student_weeks=16)

    # The release arrives first; the late assignment must not revive the assignment.
    await deliver(db, SUPERVISOR_RELEASED, ended, aggregate_id=payload.assignment_id, version=2)
    await deliver(db, SUPERVISOR_ASSIGNED, payload, aggregate_id=payload.assignment_id, version=1)
    # And duplicates are no-ops.
    await deliver(db, SUPERVISOR_RELEASED, ended, aggregate_id=payload.assignment_id, version=2)
    await deliver(db, SUPERVISOR_ASSIGNED, payload, aggregate_id=payload.assignment_id, version=1)

    [row] = await assignment_rows(db)
    assert row["status"] == "released"
    assert row["aggregate_version"] == 2
    assert await load_of(supervisors_service, sid) == (
        0,
        {"placements_supervised": 1, "student_weeks": 16},
    )


async def test_assignments_arrive_over_nats(
    supervisors_service: RunningService, nats_server: NatsServer
) -> None:
    sid = (await register(supervisors_service))["id"]
    nc = await nats.connect(nats_server.url)
    try:
        js = nc.jetstream()
        await ensure_stream(js, service_stream("placements"))

        async def publish(contract: EventContract, payload: EventPayload, version: int) -> None:
            envelope = build_envelope(
                contract,
                payload,
                source="/vfu/placements",
                aggregate_id=uuid.UUID(str(payload.model_dump()["assignment_id"])),
                aggregate_version=version,
            )
            await js.publish(
                contract.event_type, envelope.to_bytes(), headers={"Nats-Msg-Id": str(envelope.id)}
            )

        payload = assignment(sid, students=2, model="peer_2_to_1")
        await publish(SUPERVISOR_ASSIGNED, payload, 1)

        async def students_are(expected: int) -> bool:
            return (await load_of(supervisors_service, sid))[0] == expected

        await eventually(lambda: students_are(2))
        await publish(SUPERVISOR_RELEASED, released(payload, student_weeks=18), 2)
        await eventually(lambda: students_are(0))
        assert (await load_of(supervisors_service, sid))[1] == {
            "placements_supervised": 1,
            "student_weeks": 18,
        }
    finally:
        await nc.close()
