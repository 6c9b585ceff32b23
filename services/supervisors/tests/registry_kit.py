"""Helpers of the registry, qualification, privacy and assignment tests.

Supervisors are registered over HTTP; training courses and records are written straight
into the tables (the training endpoints are their own feature), and the outbox and the
assignment projection are read from the database.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from datetime import date
from typing import Any

from sqlalchemy import insert, select
from supervisors.projections.assignments import supervisor_assignments
from supervisors.registry.models import supervisors
from supervisors.training.models import training_courses
from vfu_common.db import Database
from vfu_common.events.contracts import SupervisorAssignedV1, SupervisorReleasedV1
from vfu_common.events.envelope import Envelope
from vfu_common.messaging.tables import outbox
from vfu_common.utc import utcnow
from vfu_common.uuid7 import new_id

from services.supervisors.tests.conftest import (
    EMPLOYER,
    UNIVERSITY_ID,
    Actor,
    RunningService,
)

PROFESSION = "sjukskoterska"


def hsa_id(n: int) -> str:
    """A well-formed test HSA-id (Inera's organisationsnummer, local part S<n>)."""
    return f"SE2321000016-S{n:03d}"


def supervisor_body(n: int = 1, **overrides: Any) -> dict[str, Any]:
    """A valid registration body for test supervisor ``n``."""
    body: dict[str, Any] = {
        "name": f"Handledare Test {n}",
        "hsa_id": hsa_id(n),
        "employer_reference": f"EMP-{n:04d}",
        "profession_code": PROFESSION,
        "licence_verified": True,
        "licence_verified_on": "2020-06-01",
        "unit_ids": [],
        "roles": ["handledare"],
        "max_concurrent_students": 2,
    }
    return body | overrides


async def register(
    service: RunningService, actor: Actor = EMPLOYER, n: int = 1, **overrides: Any
) -> dict[str, Any]:
    """Register test supervisor ``n`` and return the response body (asserts 201)."""
    response = await service.call(
        actor, "POST", "/supervisors", json=supervisor_body(n, **overrides)
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def add_course(
    db: Database, level: str, *, provider_id: uuid.UUID = UNIVERSITY_ID, code: str | None = None
) -> uuid.UUID:
    """A training course of ``level`` run by ``provider_id``."""
    course_id = new_id()
    now = utcnow()
    async with db.write() as session:
        await session.execute(
            insert(training_courses).values(
                id=course_id,
                provider_id=provider_id,
                course_code=code or f"HL{str(course_id)[-6:]}",
                title=f"Handledarkurs {level}",
                credits_hp=None,
                hours=8,
                level=level,
                delivery="web",
                version=1,
                created_at=now,
                updated_at=now,
            )
        )
    return course_id


def record_values(
    supervisor_id: uuid.UUID | str, course_id: uuid.UUID, status: str
) -> dict[str, Any]:
    """Column values of a training record in ``status`` (dates as its CHECKs require)."""
    now = utcnow()
    done = status in {"completed", "verified"}
    return {
        "id": new_id(),
        "supervisor_id": uuid.UUID(str(supervisor_id)),
        "course_id": course_id,
        "status": status,
        "completed_on": date(2026, 5, 1) if done else None,
        "verified_at": now if status == "verified" else None,
        "reported_by_organisation_id": UNIVERSITY_ID,
        "version": 1,
        "created_at": now,
        "updated_at": now,
    }


async def supervisor_row(db: Database, supervisor_id: uuid.UUID | str) -> dict[str, Any]:
    """The stored supervisor."""
    async with db.read() as session:
        row = (
            (
                await session.execute(
                    select(supervisors).where(supervisors.c.id == uuid.UUID(str(supervisor_id)))
                )
            )
            .mappings()
            .one()
        )
    return dict(row)


async def events(db: Database, *, type_suffix: str | None = None) -> list[Envelope]:
    """Every event in the outbox, in order (optionally of types ending in ``type_suffix``)."""
    async with db.read() as session:
        rows = (await session.execute(select(outbox.c.payload).order_by(outbox.c.seq))).scalars()
        found = [Envelope.from_bytes(payload) for payload in rows]
    if type_suffix is None:
        return found
    return [e for e in found if e.type.endswith(type_suffix)]


async def events_of(db: Database, supervisor_id: uuid.UUID | str, suffix: str) -> list[Envelope]:
    """The outbox events of one supervisor whose type ends in ``suffix``."""
    return [e for e in await events(db, type_suffix=suffix) if e.aggregateid == str(supervisor_id)]


def assignment(
    supervisor_id: uuid.UUID | str,
    *,
    university_id: uuid.UUID = UNIVERSITY_ID,
    provider_id: uuid.UUID | None = None,
    students: int = 1,
    assignment_id: uuid.UUID | None = None,
    model: str = "one_to_one",
) -> SupervisorAssignedV1:
    """A ``supervision.assigned`` payload for the supervisor."""
    return SupervisorAssignedV1(
        assignment_id=assignment_id or new_id(),
        supervisor_id=uuid.UUID(str(supervisor_id)),
        booking_id=new_id(),
        offer_id=new_id(),
        unit_id=new_id(),
        provider_id=provider_id or EMPLOYER.organisation_id or new_id(),
        university_id=university_id,
        profession_code=PROFESSION,
        supervision_model=model,
        students=students,
        start_date=date(2027, 3, 1),
        end_date=date(2027, 4, 30),
    )


def released(
    assigned: SupervisorAssignedV1, reason: str = "booking_completed", student_weeks: int = 9
) -> SupervisorReleasedV1:
    """The ``supervision.released`` payload ending ``assigned``."""
    return SupervisorReleasedV1.model_validate(
        assigned.model_dump() | {"reason": reason, "student_weeks": student_weeks}
    )


async def assignment_rows(db: Database) -> list[dict[str, Any]]:
    """Every row of the assignment projection."""
    async with db.read() as session:
        rows = (await session.execute(select(supervisor_assignments))).mappings().all()
    return [dict(r) for r in rows]


async def eventually(check: Callable[[], Awaitable[bool]], timeout: float = 30.0) -> None:
    """Wait until ``check()`` is true (asserts within ``timeout`` seconds)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not await check():
        assert asyncio.get_running_loop().time() < deadline, "condition not reached in time"
        await asyncio.sleep(0.1)
