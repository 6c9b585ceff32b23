"""Shared pieces of the supervisor-gate tests: supervisors projected as the NATS consumer
would, confirmed bookings made through the API, and reads of assignments and events.

Every supervisor is a test fixture (pseudonymous ids only; the events carry no names).
"""

from __future__ import annotations

import uuid
from typing import Any

from placements.supervision.models import supervisor_assignments
from placements.supervision.projection import HANDLERS
from sqlalchemy import select
from vfu_common.db import Database
from vfu_common.events.contracts import SUPERVISOR_REGISTERED, EventContract, SupervisorV1
from vfu_common.events.envelope import Envelope
from vfu_common.messaging.outbox import build_envelope

from services.placements.tests.booking_kit import BOOKINGS, book, events, problem_code
from services.placements.tests.conftest import (
    PROVIDER,
    REGION_ID,
    UNIVERSITY,
    Actor,
    RunningService,
)

COORDINATOR = Actor("coordinator", None)
ASSIGNED = "supervision.assigned.v1"
RELEASED = "supervision.released.v1"

__all__ = ["COORDINATOR", "problem_code"]


def supervisor(**overrides: Any) -> SupervisorV1:
    """A registered, licensed nurse of REGION trained to ``basic``, one student at a time."""
    fields: dict[str, Any] = {
        "supervisor_id": uuid.uuid4(),
        "employer_id": REGION_ID,
        "profession_code": "sjukskoterska",
        "unit_ids": [],
        "max_concurrent_students": 1,
        "active": True,
        "licence_verified": True,
        "level_achieved": "basic",
        "required_level": "basic",
        "qualified": True,
    }
    return SupervisorV1(**(fields | overrides))


def supervisor_envelope(
    state: SupervisorV1, *, version: int = 1, contract: EventContract = SUPERVISOR_REGISTERED
) -> tuple[Envelope, Any]:
    """The envelope and payload the supervisors service would publish for ``state``."""
    fields = state.model_dump()
    if "previous_qualified" in contract.payload.model_fields:
        fields |= {"previous_qualified": False, "reason": "qualified"}
    payload = contract.payload.model_validate(fields)
    envelope = build_envelope(
        contract,
        payload,
        source="/vfu/supervisors",
        aggregate_id=state.supervisor_id,
        aggregate_version=version,
    )
    return envelope, payload


async def project_supervisor(
    db: Database,
    state: SupervisorV1,
    *,
    version: int = 1,
    contract: EventContract = SUPERVISOR_REGISTERED,
) -> SupervisorV1:
    """Apply one supervisor event to the projection, as the NATS consumer would."""
    envelope, payload = supervisor_envelope(state, version=version, contract=contract)
    async with db.write() as session:
        await HANDLERS[contract.event_type](session, envelope, payload)
    return state


async def confirmed_booking(
    service: RunningService, offer_id: uuid.UUID, *, places: int = 1
) -> str:
    """A booking of UNIVERSITY on the offer, confirmed by its provider."""
    response = await book(service, UNIVERSITY, offer_id, places=places)
    assert response.status_code == 201, response.text
    booking_id = str(response.json()["id"])
    if response.json()["status"] == "requested":
        confirmed = await service.call(PROVIDER, "POST", f"{BOOKINGS}/{booking_id}/confirm")
        assert confirmed.status_code == 200, confirmed.text
    return booking_id


def supervisors_path(booking_id: str) -> str:
    """The booking's assignments collection."""
    return f"{BOOKINGS}/{booking_id}/supervisors"


async def assign(
    service: RunningService,
    booking_id: str,
    supervisor_id: uuid.UUID,
    *,
    students: int = 1,
    actor: Actor = PROVIDER,
) -> Any:
    """POST an assignment as ``actor`` (the provider by default)."""
    body = {"supervisor_id": str(supervisor_id), "students": students}
    return await service.call(actor, "POST", supervisors_path(booking_id), json=body)


async def assignment_rows(db: Database, **where: Any) -> list[dict[str, Any]]:
    """Stored assignments, optionally filtered by column values, oldest first."""
    stmt = select(supervisor_assignments).order_by(supervisor_assignments.c.id)
    for column, value in where.items():
        stmt = stmt.where(supervisor_assignments.c[column] == value)
    async with db.read() as session:
        return [dict(row) for row in (await session.execute(stmt)).mappings()]


async def supervision_events(db: Database, suffix: str) -> list[Envelope]:
    """Assignment events of one type, in outbox order."""
    return await events(db, type_suffix=suffix)
