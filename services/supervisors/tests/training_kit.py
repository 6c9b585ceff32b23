"""Helpers of the training course, record and bulk report tests.

Supervisors are written straight into the registry's table (the registry is its own
feature); courses and records go through the HTTP API under test; the outbox and the
supervisor rows are read from the database.
"""

from __future__ import annotations

import json
import uuid
from datetime import date
from typing import Any

from sqlalchemy import func, insert, select
from supervisors.registry.models import supervisors
from supervisors.training.models import training_records
from vfu_common.db import Database
from vfu_common.events.envelope import Envelope
from vfu_common.messaging.tables import outbox
from vfu_common.utc import utcnow
from vfu_common.uuid7 import new_id

from services.supervisors.tests.conftest import (
    REGION_ID,
    UNIVERSITY,
    Actor,
    RunningService,
)

PROFESSION = "sjukskoterska"
DONE_ON = date(2025, 5, 20)


def hsa_id(n: int) -> str:
    """A well-formed test HSA-id (Inera's organisationsnummer, local part T<n>)."""
    return f"SE2321000016-T{n:03d}"


async def insert_supervisor(
    db: Database,
    n: int = 1,
    *,
    employer_id: uuid.UUID = REGION_ID,
    licence_verified: bool = True,
    active: bool = True,
    with_hsa_id: bool = True,
) -> uuid.UUID:
    """A registered, not yet trained supervisor "Handledare Test <n>" (reference EMP-<n>)."""
    supervisor_id = new_id()
    now = utcnow()
    async with db.write() as session:
        await session.execute(
            insert(supervisors).values(
                id=supervisor_id,
                employer_id=employer_id,
                employer_reference=f"EMP-{n:04d}",
                name=f"Handledare Test {n}",
                hsa_id=hsa_id(n) if with_hsa_id else None,
                profession_code=PROFESSION,
                licence_verified=licence_verified,
                licence_verified_on=date(2020, 6, 1) if licence_verified else None,
                roles=json.dumps(["handledare"]),
                max_concurrent_students=2,
                active=active,
                level_achieved=None,
                required_level="basic",
                qualified=False,
                qualification_reason=(
                    "training_below_requirement" if licence_verified else "licence_not_verified"
                ),
                qualified_since=None,
                qualification_lapsed_at=None,
                version=1,
                created_at=now,
                updated_at=now,
            )
        )
    return supervisor_id


def course_body(code: str = "3HA100", **overrides: Any) -> dict[str, Any]:
    """A valid course: a 7.5 hp campus course at level course_7_5hp."""
    body: dict[str, Any] = {
        "course_code": code,
        "title": "Handledning i verksamhetsförlagd utbildning",
        "credits_hp": "7.5",
        "level": "course_7_5hp",
        "delivery": "campus",
    }
    return body | overrides


async def create_course(
    service: RunningService, actor: Actor = UNIVERSITY, code: str = "3HA100", **overrides: Any
) -> dict[str, Any]:
    """Create a course over HTTP; fails the test unless it is created."""
    response = await service.call(actor, "POST", "/courses", json=course_body(code, **overrides))
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def report(
    service: RunningService, course_id: str, actor: Actor = UNIVERSITY, **fields: Any
) -> Any:
    """POST one training record (default: a completion by supervisor_id or as given)."""
    body: dict[str, Any] = {"course_id": course_id, "completed_on": DONE_ON.isoformat()}
    body |= fields
    return await service.call(actor, "POST", "/training-records", json=body)


async def supervisor_row(db: Database, supervisor_id: uuid.UUID) -> Any:
    """The supervisor's stored row."""
    async with db.read() as session:
        stmt = select(supervisors).where(supervisors.c.id == supervisor_id)
        return (await session.execute(stmt)).mappings().one()


async def events(db: Database, *, prefix: str = "vfu.supervisors.") -> list[Envelope]:
    """Every outbox envelope of ``prefix``, in write order."""
    async with db.read() as session:
        stmt = select(outbox.c.payload).where(outbox.c.subject.startswith(prefix))
        payloads = (await session.execute(stmt.order_by(outbox.c.seq))).scalars()
        return [Envelope.from_bytes(p) for p in payloads]


async def record_count(db: Database) -> int:
    """How many training records are stored."""
    async with db.read() as session:
        return int(
            (await session.execute(select(func.count()).select_from(training_records))).scalar_one()
        )
