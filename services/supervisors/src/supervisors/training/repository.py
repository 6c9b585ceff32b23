"""Every query of the training feature (SQLAlchemy Core).

Supervisors are the registry's table; this feature only reads them, to match reported
records to supervisors and to decide who may see a record (the employer).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, insert, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession
from vfu_common.events.contracts import TrainingLevel, TrainingRecordStatus
from vfu_common.rows import all_as, one_as

from supervisors.registry.models import supervisors
from supervisors.training.models import Course, training_courses, training_records


@dataclass(frozen=True)
class RecordView:
    """A training record with the course and the employer it belongs to: how a record is
    shown, announced and decided on (who may see it)."""

    id: uuid.UUID
    supervisor_id: uuid.UUID
    course_id: uuid.UUID
    status: TrainingRecordStatus
    completed_on: date | None
    verified_at: datetime | None
    reported_by_organisation_id: uuid.UUID
    version: int
    created_at: datetime
    updated_at: datetime
    course_code: str
    issuer_id: uuid.UUID
    course_level: TrainingLevel
    employer_id: uuid.UUID


@dataclass(frozen=True)
class SupervisorKeys:
    """What matching a report and the record rules read of a supervisor (no personal
    fields besides the matching keys themselves, which never leave this feature)."""

    id: uuid.UUID
    employer_id: uuid.UUID
    hsa_id: str | None
    employer_reference: str | None
    active: bool


# The columns a record is shown with: its own, and the course and employer it belongs to.
_RECORD_VIEW = (
    training_records,
    training_courses.c.course_code,
    training_courses.c.provider_id.label("issuer_id"),
    training_courses.c.level.label("course_level"),
    supervisors.c.employer_id,
)
# The columns of a SupervisorKeys.
_SUPERVISOR_KEYS = (
    supervisors.c.id,
    supervisors.c.employer_id,
    supervisors.c.hsa_id,
    supervisors.c.employer_reference,
    supervisors.c.active,
)


# --- courses -------------------------------------------------------------------------------


async def get_course(
    session: AsyncSession, course_id: uuid.UUID, *, for_update: bool = False
) -> Course | None:
    """One course, locked on PostgreSQL when ``for_update``."""
    stmt = select(training_courses).where(training_courses.c.id == course_id)
    if for_update:
        stmt = stmt.with_for_update()
    return one_as(Course, await session.execute(stmt))


async def courses_by_id(
    session: AsyncSession, course_ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, Course]:
    """Courses by id (absent ids are missing from the result)."""
    ids = sorted(set(course_ids))
    if not ids:
        return {}
    stmt = select(training_courses).where(training_courses.c.id.in_(ids))
    return {row.id: row for row in all_as(Course, await session.execute(stmt))}


async def courses_by_code(
    session: AsyncSession, provider_id: uuid.UUID, codes: Iterable[str]
) -> dict[str, Course]:
    """One provider's courses by course code."""
    wanted = sorted(set(codes))
    if not wanted:
        return {}
    stmt = select(training_courses).where(
        training_courses.c.provider_id == provider_id, training_courses.c.course_code.in_(wanted)
    )
    return {row.course_code: row for row in all_as(Course, await session.execute(stmt))}


async def course_code_used(
    session: AsyncSession,
    provider_id: uuid.UUID,
    course_code: str,
    *,
    course_id: uuid.UUID | None = None,
) -> bool:
    """True when a course of ``provider_id`` other than ``course_id`` has ``course_code``."""
    stmt = select(training_courses.c.id).where(
        training_courses.c.provider_id == provider_id,
        training_courses.c.course_code == course_code,
    )
    if course_id is not None:
        stmt = stmt.where(training_courses.c.id != course_id)
    return (await session.execute(stmt.limit(1))).first() is not None


async def add_course(session: AsyncSession, values: dict[str, Any]) -> None:
    """Insert a course."""
    await session.execute(insert(training_courses).values(**values))


async def change_course(
    session: AsyncSession, course_id: uuid.UUID, values: dict[str, Any]
) -> None:
    """Apply ``values`` and count the change in ``version``."""
    await session.execute(
        update(training_courses)
        .where(training_courses.c.id == course_id)
        .values(**values, version=training_courses.c.version + 1)
    )


async def course_page(
    session: AsyncSession,
    *,
    provider_id: uuid.UUID | None,
    level: str | None,
    after: uuid.UUID | None,
    limit: int,
) -> list[Course]:
    """Courses in id order (UUIDv7: creation order) after ``after``, at most ``limit``."""
    stmt = select(training_courses).order_by(training_courses.c.id).limit(limit)
    if provider_id is not None:
        stmt = stmt.where(training_courses.c.provider_id == provider_id)
    if level is not None:
        stmt = stmt.where(training_courses.c.level == level)
    if after is not None:
        stmt = stmt.where(training_courses.c.id > after)
    return all_as(Course, await session.execute(stmt))


# --- supervisors (read only) ---------------------------------------------------------------


async def supervisors_by_id(
    session: AsyncSession, ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, SupervisorKeys]:
    """Supervisors' matching keys by id."""
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    stmt = select(*_SUPERVISOR_KEYS).where(supervisors.c.id.in_(wanted))
    return {row.id: row for row in all_as(SupervisorKeys, await session.execute(stmt))}


async def supervisors_by_hsa_id(
    session: AsyncSession, hsa_ids: Iterable[str]
) -> dict[str, SupervisorKeys]:
    """Supervisors' matching keys by HSA-id."""
    wanted = sorted(set(hsa_ids))
    if not wanted:
        return {}
    stmt = select(*_SUPERVISOR_KEYS).where(supervisors.c.hsa_id.in_(wanted))
    rows = all_as(SupervisorKeys, await session.execute(stmt))
    return {row.hsa_id: row for row in rows if row.hsa_id is not None}


async def supervisors_by_reference(
    session: AsyncSession, references: Iterable[tuple[uuid.UUID, str]]
) -> dict[tuple[uuid.UUID, str], SupervisorKeys]:
    """Supervisors' matching keys by (employer_id, employer_reference)."""
    wanted = sorted(set(references))
    if not wanted:
        return {}
    stmt = select(*_SUPERVISOR_KEYS).where(
        tuple_(supervisors.c.employer_id, supervisors.c.employer_reference).in_(wanted)
    )
    return {
        (row.employer_id, row.employer_reference): row
        for row in all_as(SupervisorKeys, await session.execute(stmt))
        if row.employer_reference is not None
    }


# --- records -------------------------------------------------------------------------------


def _record_view() -> Select[Any]:
    return (
        select(*_RECORD_VIEW)
        .join(training_courses, training_courses.c.id == training_records.c.course_id)
        .join(supervisors, supervisors.c.id == training_records.c.supervisor_id)
    )


async def get_record(
    session: AsyncSession, record_id: uuid.UUID, *, for_update: bool = False
) -> RecordView | None:
    """One record with its course code, issuer, level and employer."""
    stmt = _record_view().where(training_records.c.id == record_id)
    if for_update:
        stmt = stmt.with_for_update(of=training_records)
    return one_as(RecordView, await session.execute(stmt))


async def existing_pairs(
    session: AsyncSession, pairs: Iterable[tuple[uuid.UUID, uuid.UUID]]
) -> set[tuple[uuid.UUID, uuid.UUID]]:
    """Which (supervisor_id, course_id) pairs already have a record."""
    wanted = sorted(set(pairs))
    if not wanted:
        return set()
    columns = (training_records.c.supervisor_id, training_records.c.course_id)
    stmt = select(*columns).where(tuple_(*columns).in_(wanted))
    return {(row.supervisor_id, row.course_id) for row in await session.execute(stmt)}


async def supervisors_of_course(session: AsyncSession, course_id: uuid.UUID) -> list[uuid.UUID]:
    """The supervisors with a record of the course, in id order."""
    stmt = (
        select(training_records.c.supervisor_id)
        .where(training_records.c.course_id == course_id)
        .order_by(training_records.c.supervisor_id)
    )
    return list((await session.execute(stmt)).scalars())


async def add_records(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    """Insert records (one statement, however many)."""
    if rows:
        await session.execute(insert(training_records), list(rows))


async def change_record(
    session: AsyncSession,
    record_id: uuid.UUID,
    *,
    expected_version: int,
    values: Mapping[str, Any],
) -> bool:
    """Apply ``values`` if the record is still at ``expected_version``; True when it was.

    The version condition makes a lost race change nothing (and so emit nothing).
    """
    result = await session.execute(
        update(training_records)
        .where(
            training_records.c.id == record_id,
            training_records.c.version == expected_version,
        )
        .values(**values, version=training_records.c.version + 1)
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


async def record_page(
    session: AsyncSession,
    *,
    visible: ColumnElement[bool],
    filters: Mapping[str, Any],
    after: uuid.UUID | None,
    limit: int,
) -> list[RecordView]:
    """Visible records matching ``filters`` in id order after ``after``, at most ``limit``."""
    stmt = _record_view().where(visible).order_by(training_records.c.id).limit(limit)
    for name, value in filters.items():
        if value is not None:
            stmt = stmt.where(training_records.c[name] == value)
    if after is not None:
        stmt = stmt.where(training_records.c.id > after)
    return all_as(RecordView, await session.execute(stmt))


def record_of(view: RecordView) -> dict[str, Any]:
    """The ``training_records`` columns of a record view."""
    return {column.key: getattr(view, column.key) for column in training_records.columns}


# --- paging --------------------------------------------------------------------------------
