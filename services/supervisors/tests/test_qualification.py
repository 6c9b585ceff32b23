"""Qualification: computed from licence and training against the configured levels.

Training records are written into the tables directly and ``refresh_qualification`` is
called as the training feature calls it, in the same transaction; licence changes and the
configured levels are exercised over HTTP.
"""

from __future__ import annotations

import uuid
from datetime import date
from types import MappingProxyType
from typing import Any

import pytest
from sqlalchemy import insert, update
from supervisors.qualification.levels import RequiredLevels
from supervisors.qualification.service import refresh_qualification
from supervisors.settings import Settings
from supervisors.training.models import training_records
from vfu_common.events.contracts import QualificationChangedV1

from services.supervisors.tests.conftest import EMPLOYER, RunningService
from services.supervisors.tests.registry_kit import (
    add_course,
    events_of,
    record_values,
    register,
    supervisor_row,
)

DEFAULT = RequiredLevels(default="basic")
QUALIFIED_EVENT = ".qualification.changed.v1"


async def add_record(
    service: RunningService, supervisor_id: str, level: str, status: str, levels: RequiredLevels
) -> uuid.UUID:
    """A record of a new ``level`` course, then the refresh, in one transaction."""
    course_id = await add_course(service.db, level)
    values = record_values(supervisor_id, course_id, status)
    async with service.db.write() as session:
        await session.execute(insert(training_records).values(**values))
        await refresh_qualification(session, uuid.UUID(supervisor_id), levels)
    record_id: uuid.UUID = values["id"]
    return record_id


async def set_status(
    service: RunningService,
    supervisor_id: str,
    record_id: uuid.UUID,
    status: str,
    levels: RequiredLevels = DEFAULT,
) -> None:
    values: dict[str, Any] = {"status": status, "verified_at": None}
    values["completed_on"] = date(2026, 5, 1) if status == "completed" else None
    async with service.db.write() as session:
        await session.execute(
            update(training_records).where(training_records.c.id == record_id).values(**values)
        )
        await refresh_qualification(session, uuid.UUID(supervisor_id), levels)


async def test_required_levels_fall_back_to_the_default() -> None:
    levels = RequiredLevels(default="basic", by_profession=MappingProxyType({"lakare": "advanced"}))
    assert levels.for_profession("lakare") == "advanced"
    assert levels.for_profession("sjukskoterska") == "basic"
    settings = Settings(required_levels_by_profession={"lakare": "course_7_5hp"})
    assert RequiredLevels.from_settings(settings).for_profession("lakare") == "course_7_5hp"
    assert RequiredLevels.from_settings(settings).default == "basic"


async def test_completed_training_at_the_level_qualifies(
    supervisors_service: RunningService,
) -> None:
    supervisor = await register(supervisors_service)
    sid = supervisor["id"]

    # Neither an introduction nor a course still in progress reaches "basic".
    await add_record(supervisors_service, sid, "introduction", "completed", DEFAULT)
    await add_record(supervisors_service, sid, "advanced", "in_progress", DEFAULT)
    row = await supervisor_row(supervisors_service.db, sid)
    assert row["qualified"] is False
    assert row["level_achieved"] == "introduction"
    assert row["qualification_reason"] == "training_below_requirement"

    await add_record(supervisors_service, sid, "basic", "completed", DEFAULT)
    row = await supervisor_row(supervisors_service.db, sid)
    assert row["qualified"] is True
    assert row["level_achieved"] == "basic"
    assert row["qualification_reason"] == "qualified"
    assert row["qualified_since"] is not None
    assert row["qualification_lapsed_at"] is None

    changes = await events_of(supervisors_service.db, sid, QUALIFIED_EVENT)
    # introduction (level moved) and basic (qualified): two changes, versions increasing.
    assert len(changes) == 2
    last = QualificationChangedV1.model_validate(changes[-1].data)
    assert last.qualified is True
    assert last.previous_qualified is False
    assert last.level_achieved == "basic"
    assert last.previous_level_achieved == "introduction"
    assert last.reason == "qualified"
    assert changes[-1].aggregateversion == row["version"]
    assert changes[0].aggregateversion < changes[1].aggregateversion

    read = await supervisors_service.call(EMPLOYER, "GET", f"/supervisors/{sid}")
    assert read.json()["qualified"] is True
    assert read.json()["level_achieved"] == "basic"


async def test_verified_counts_and_the_highest_level_wins(
    supervisors_service: RunningService,
) -> None:
    sid = (await register(supervisors_service))["id"]
    await add_record(supervisors_service, sid, "course_7_5hp", "verified", DEFAULT)
    await add_record(supervisors_service, sid, "basic", "completed", DEFAULT)
    row = await supervisor_row(supervisors_service.db, sid)
    assert row["qualified"] is True
    assert row["level_achieved"] == "course_7_5hp"


async def test_nothing_changes_without_a_change(supervisors_service: RunningService) -> None:
    sid = (await register(supervisors_service))["id"]
    await add_record(supervisors_service, sid, "basic", "completed", DEFAULT)
    before = await supervisor_row(supervisors_service.db, sid)
    async with supervisors_service.db.write() as session:
        await refresh_qualification(session, uuid.UUID(sid), DEFAULT)
    after = await supervisor_row(supervisors_service.db, sid)
    assert after["version"] == before["version"]
    assert len(await events_of(supervisors_service.db, sid, QUALIFIED_EVENT)) == 1


async def test_per_profession_level(supervisors_service: RunningService) -> None:
    strict = RequiredLevels(
        default="basic", by_profession=MappingProxyType({"sjukskoterska": "course_7_5hp"})
    )
    sid = (await register(supervisors_service))["id"]
    await add_record(supervisors_service, sid, "basic", "completed", strict)
    row = await supervisor_row(supervisors_service.db, sid)
    assert row["required_level"] == "course_7_5hp"
    assert row["qualified"] is False
    assert row["level_achieved"] == "basic"

    other = (await register(supervisors_service, n=2, profession_code="lakare"))["id"]
    await add_record(supervisors_service, other, "basic", "completed", strict)
    assert (await supervisor_row(supervisors_service.db, other))["qualified"] is True


async def test_lapse_is_tracked_and_cleared(supervisors_service: RunningService) -> None:
    sid = (await register(supervisors_service))["id"]
    record = await add_record(supervisors_service, sid, "basic", "completed", DEFAULT)
    assert (await supervisor_row(supervisors_service.db, sid))["qualified"] is True

    await set_status(supervisors_service, sid, record, "withdrawn")
    lapsed = await supervisor_row(supervisors_service.db, sid)
    assert lapsed["qualified"] is False
    assert lapsed["qualification_lapsed_at"] is not None
    assert lapsed["qualified_since"] is None
    assert lapsed["level_achieved"] is None
    last = QualificationChangedV1.model_validate(
        (await events_of(supervisors_service.db, sid, QUALIFIED_EVENT))[-1].data
    )
    assert last.previous_qualified is True
    assert last.qualified is False
    assert last.previous_level_achieved == "basic"
    assert last.level_achieved is None

    await set_status(supervisors_service, sid, record, "completed")
    again = await supervisor_row(supervisors_service.db, sid)
    assert again["qualified"] is True
    assert again["qualification_lapsed_at"] is None
    assert again["qualified_since"] is not None


async def test_licence_change_over_http_moves_qualification(
    supervisors_service: RunningService,
) -> None:
    sid = (await register(supervisors_service))["id"]
    await add_record(supervisors_service, sid, "basic", "completed", DEFAULT)
    path = f"/supervisors/{sid}"

    revoked = await supervisors_service.call(
        EMPLOYER, "PATCH", path, json={"licence_verified": False}
    )
    assert revoked.status_code == 200, revoked.text
    assert revoked.json()["qualified"] is False
    assert revoked.json()["qualification_reason"] == "licence_not_verified"
    assert revoked.json()["qualification_lapsed_at"] is not None
    [changed] = await events_of(supervisors_service.db, sid, ".supervisor.changed.v1")
    assert changed.data["licence_verified"] is False
    assert changed.data["qualified"] is False
    last = (await events_of(supervisors_service.db, sid, QUALIFIED_EVENT))[-1]
    assert last.data["reason"] == "licence_not_verified"
    assert last.aggregateversion == revoked.json()["version"]

    restored = await supervisors_service.call(
        EMPLOYER,
        "PATCH",
        path,
        json={"licence_verified": True, "licence_verified_on": "2026-01-02"},
    )
    assert restored.json()["qualified"] is True
    assert restored.json()["qualification_lapsed_at"] is None


async def test_configured_levels_apply_over_http(supervisors_service: RunningService) -> None:
    runtime: Any = supervisors_service.app.state.runtime
    runtime.settings = runtime.settings.model_copy(
        update={"required_levels_by_profession": {"sjukskoterska": "advanced"}}
    )
    body = await register(supervisors_service)
    assert body["required_level"] == "advanced"
    other = await register(supervisors_service, n=2, profession_code="lakare")
    assert other["required_level"] == "basic"


@pytest.mark.parametrize("level", ["introduction", "basic", "course_7_5hp", "advanced"])
async def test_unlicensed_supervisor_is_never_qualified(
    supervisors_service: RunningService, level: str
) -> None:
    sid = (await register(supervisors_service, licence_verified=False, licence_verified_on=None))[
        "id"
    ]
    await add_record(supervisors_service, sid, level, "verified", DEFAULT)
    row = await supervisor_row(supervisors_service.db, sid)
    assert row["qualified"] is False
    assert row["qualification_reason"] == "licence_not_verified"
    assert row["level_achieved"] == level
