"""A Hypothesis state machine of training records, on the service functions and a real
database (SQLite, and PostgreSQL when VFU_TEST_DATABASE_URL is set).

The issuing university reports records (registered, in progress or completed) for two
supervisors (one licensed, one not) on two courses (introduction and 7.5 hp) and moves
them through every action. A model predicts every outcome. After every step:

* every record has the status the model predicts, and a completion date exactly when
  completed or verified;
* every change of a record was announced by ``training.recorded`` (and a verification
  also by ``training.verified``), in order, with the record's version;
* each supervisor's stored qualification is the shared rule applied to the model's
  qualifying records, and ``qualification.changed`` was announced exactly once per move.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import pytest
from hypothesis import HealthCheck
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, invariant, multiple, rule
from sqlalchemy import delete, select, update
from supervisors.qualification.levels import RequiredLevels
from supervisors.registry.models import supervisors
from supervisors.training import courses, service
from supervisors.training.models import training_records
from supervisors.training.schemas import CourseCreate, TrainingRecordReport
from supervisors.training.transitions import TRANSITIONS
from vfu_common.db import Database
from vfu_common.errors import ProblemError
from vfu_common.events.envelope import Envelope
from vfu_common.messaging.tables import outbox
from vfu_common.principal import Principal
from vfu_domain.qualification import (
    QUALIFYING_RECORD_STATUSES,
    evaluate,
    highest_level,
)
from vfu_testing.databases import database_for, migrate
from vfu_testing.stateful import run_state_machine

from services.supervisors.tests.conftest import UNIVERSITY_ID
from services.supervisors.tests.training_kit import DONE_ON, insert_supervisor

ALEMBIC_INI = Path(__file__).resolve().parents[1] / "alembic.ini"
ISSUER = Principal(subject="uni", organisation_id=UNIVERSITY_ID, roles=frozenset({"university"}))
LEVELS = RequiredLevels(default="basic")
COURSE_LEVELS = ("introduction", "course_7_5hp")


@dataclass
class SupervisorModel:
    id: uuid.UUID
    licensed: bool
    standing: tuple[bool, str | None] = (False, None)
    qualification_events: int = 0


@dataclass
class RecordModel:
    id: uuid.UUID
    supervisor: SupervisorModel
    level: str
    status: str
    events: list[str] = field(default_factory=list)


class World:
    """The event loop, database, courses and supervisors shared by every example."""

    def __init__(self, url: str) -> None:
        self.loop = asyncio.new_event_loop()
        self.run(migrate(ALEMBIC_INI, url))
        self.db = Database(url)
        self.courses = {level: self.run(self._course(level)) for level in COURSE_LEVELS}
        self.supervisors = [
            self.run(insert_supervisor(self.db, 1)),
            self.run(insert_supervisor(self.db, 2, licence_verified=False)),
        ]

    def run(self, work: Awaitable[Any]) -> Any:
        return self.loop.run_until_complete(work)

    async def _course(self, level: str) -> uuid.UUID:
        data = CourseCreate(
            course_code=f"C-{level}",
            title="Handledarkurs",
            hours=8,
            level=level,
            delivery="web",
        )
        async with self.db.write() as session:
            row = await courses.create_course(session, data=data, principal=ISSUER)
        return row.id

    async def clear(self) -> None:
        async with self.db.write() as session:
            await session.execute(delete(training_records))
            await session.execute(delete(outbox))
            await session.execute(
                update(supervisors).values(
                    level_achieved=None,
                    qualified=False,
                    qualified_since=None,
                    qualification_lapsed_at=None,
                )
            )

    def close(self) -> None:
        self.run(self.db.dispose())
        self.loop.close()


class TrainingRecords(RuleBasedStateMachine):
    world: ClassVar[World]
    records_bundle = Bundle("records")

    def __init__(self) -> None:
        super().__init__()
        first, second = self.world.supervisors
        self.supervisors = [SupervisorModel(first, True), SupervisorModel(second, False)]
        self.records: dict[uuid.UUID, RecordModel] = {}

    def write(self, step: Any) -> tuple[Any, str | None]:
        async def go() -> Any:
            async with self.world.db.write() as session:
                return await step(session)

        try:
            return self.world.run(go()), None
        except ProblemError as refusal:
            return None, refusal.code

    def requalify(self, supervisor: SupervisorModel) -> None:
        """Apply the shared rule to the model's records; count a qualification event on change."""
        levels = [
            r.level
            for r in self.records.values()
            if r.supervisor is supervisor and r.status in QUALIFYING_RECORD_STATUSES
        ]
        achieved = highest_level(levels)
        decision = evaluate(
            licence_verified=supervisor.licensed, level_achieved=achieved, required_level="basic"
        )
        standing = (decision.qualified, achieved)
        if standing != supervisor.standing:
            supervisor.qualification_events += 1
            supervisor.standing = standing

    @rule(
        target=records_bundle,
        who=st.integers(0, 1),
        level=st.sampled_from(COURSE_LEVELS),
        status=st.sampled_from(["registered", "in_progress", "completed"]),
    )
    def report(self, who: int, level: str, status: str) -> Any:
        supervisor = self.supervisors[who]
        data = TrainingRecordReport(
            course_id=self.world.courses[level],
            supervisor_id=supervisor.id,
            status=status,
            completed_on=DONE_ON if status == "completed" else None,
        )
        result, code = self.write(
            lambda s: service.report_record(s, data=data, principal=ISSUER, levels=LEVELS)
        )
        if any(r.supervisor is supervisor and r.level == level for r in self.records.values()):
            assert code == "duplicate_training_record"
            return multiple()
        assert code is None
        record = RecordModel(result.id, supervisor, level, status, events=[status])
        self.records[record.id] = record
        self.requalify(supervisor)
        return record

    @rule(record=records_bundle, action=st.sampled_from(sorted(TRANSITIONS)))
    def act(self, record: RecordModel, action: Any) -> None:
        _, code = self.write(
            lambda s: service.move_record(
                s, record.id, action, principal=ISSUER, levels=LEVELS, completed_on=DONE_ON
            )
        )
        transition = TRANSITIONS[action]
        if record.status not in transition.sources:
            expected = (
                "already_verified"
                if (action, record.status) == ("verify", "verified")
                else "invalid_training_transition"
            )
            assert code == expected
            return
        assert code is None
        record.status = transition.target
        record.events.append(record.status)
        if record.status == "verified":
            record.events.append("verified!")
        self.requalify(record.supervisor)

    @invariant()
    def database_events_and_qualification_agree(self) -> None:
        record_rows, supervisor_rows, envelopes = self.world.run(self._state())
        assert set(record_rows) == set(self.records)
        by_record: dict[str, list[Envelope]] = {}
        qualification: dict[str, int] = {}
        for envelope in envelopes:
            if envelope.aggregatetype == "training_record":
                by_record.setdefault(envelope.aggregateid, []).append(envelope)
            elif envelope.type.endswith("qualification.changed.v1"):
                qualification[envelope.aggregateid] = qualification.get(envelope.aggregateid, 0) + 1
        for record in self.records.values():
            row = record_rows[record.id]
            assert row["status"] == record.status
            assert (row["completed_on"] is not None) == (record.status in ("completed", "verified"))
            mine = by_record[str(record.id)]
            shown = [
                e.data["status"] + ("!" if e.type.endswith("verified.v1") else "") for e in mine
            ]
            assert shown == record.events
            assert mine[-1].aggregateversion == row["version"]
        for supervisor in self.supervisors:
            row = supervisor_rows[supervisor.id]
            assert (row["qualified"], row["level_achieved"]) == supervisor.standing
            assert qualification.get(str(supervisor.id), 0) == supervisor.qualification_events

    async def _state(self) -> tuple[dict[Any, Any], dict[Any, Any], list[Envelope]]:
        async with self.world.db.read() as session:
            records = {
                r["id"]: r for r in (await session.execute(select(training_records))).mappings()
            }
            people = {r["id"]: r for r in (await session.execute(select(supervisors))).mappings()}
            payloads = (
                await session.execute(select(outbox.c.payload).order_by(outbox.c.seq))
            ).scalars()
            return records, people, [Envelope.from_bytes(p) for p in payloads]

    def teardown(self) -> None:
        self.world.run(self.world.clear())


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def test_training_record_state_machine(tmp_path: Path, backend: str) -> None:
    with database_for(backend, tmp_path) as url:
        run_state_machine(
            TrainingRecords,
            World(url),
            max_examples=25,
            steps=20,
            also_suppress=[HealthCheck.filter_too_much],
        )
