"""Rules of the course catalogue and of training records.

Courses are public facts run by one organisation (usually a university). A training
record links a supervisor to a course; the organisation running the course reports it
(one at a time here, in bulk in ``supervisors.imports``, through the same matching and
storing functions) and moves it through ``transitions``. Every record change is one
transaction holding the record, its events and the supervisor's recomputed
qualification (``refresh_qualification``), so a qualification never disagrees with the
records it is computed from.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Final

from pydantic import ValidationError
from sqlalchemy import RowMapping
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from vfu_common.errors import validation_problem
from vfu_common.pagination import PageParams, after_id, id_page
from vfu_common.principal import Principal
from vfu_common.utc import utcnow
from vfu_common.uuid7 import new_id

from supervisors.qualification.levels import RequiredLevels
from supervisors.qualification.service import refresh_qualification
from supervisors.training import access, errors, repository, transitions
from supervisors.training.events import emit_record_events
from supervisors.training.schemas import (
    CourseCreate,
    CourseFields,
    CourseOut,
    CourseUpdate,
    RecordFields,
    RecordFilters,
    RecordOut,
    TrainingRecordReport,
)

_COURSE_FIELDS: Final = tuple(CourseFields.model_fields)


# --- courses -------------------------------------------------------------------------------


def to_course_out(course: Mapping[Any, Any]) -> CourseOut:
    """The API view of a stored course."""
    return CourseOut.model_validate(dict(course))


async def load_course(
    session: AsyncSession, course_id: uuid.UUID, *, for_update: bool = False
) -> RowMapping:
    """A course, or 404 ``course_not_found``."""
    course = await repository.get_course(session, course_id, for_update=for_update)
    if course is None:
        raise errors.course_not_found(course_id)
    return course


async def _refuse_taken_code(
    session: AsyncSession,
    provider_id: uuid.UUID,
    course_code: str,
    *,
    course_id: uuid.UUID | None = None,
) -> None:
    if await repository.course_code_used(session, provider_id, course_code, course_id=course_id):
        raise errors.course_code_taken(course_code)


async def create_course(
    session: AsyncSession, *, data: CourseCreate, principal: Principal
) -> RowMapping:
    """Add a course run by the caller's organisation (or the admin's ``provider_id``).

    Raises:
        ProblemError: 403 ``not_owner`` naming another organisation; 422
            ``provider_id_required`` for an admin naming none; 409 ``course_code_taken``.
    """
    provider_id = access.owner_of_new_course(principal, data.provider_id)
    await _refuse_taken_code(session, provider_id, data.course_code)
    now = utcnow()
    course_id = new_id()
    values = data.model_dump(include=set(_COURSE_FIELDS))
    try:
        await repository.add_course(
            session,
            {
                **values,
                "id": course_id,
                "provider_id": provider_id,
                "version": 1,
                "created_at": now,
                "updated_at": now,
            },
        )
    except IntegrityError as exc:  # a concurrent request took the code after our check
        raise errors.course_code_taken(data.course_code) from exc
    return await load_course(session, course_id)


async def list_courses(
    session: AsyncSession,
    *,
    provider_id: uuid.UUID | None,
    level: str | None,
    page: PageParams,
) -> tuple[list[RowMapping], str | None]:
    """A page of the catalogue, optionally one organisation's or one level's."""
    rows = await repository.course_page(
        session,
        provider_id=provider_id,
        level=level,
        after=after_id(page),
        limit=page.limit + 1,
    )
    return id_page(rows, page.limit)


async def update_course(
    session: AsyncSession,
    course_id: uuid.UUID,
    *,
    data: CourseUpdate,
    principal: Principal,
    levels: RequiredLevels,
) -> RowMapping:
    """Change a course (its organisation or an admin); the merged course is validated whole.

    A level change can move the qualification of everyone with a record of the course, so
    theirs is recomputed in the same transaction.

    Raises:
        ProblemError: 404 ``course_not_found``; 403 ``not_owner``; 409
            ``course_code_taken``; 422 for a merged course breaking a rule.
    """
    course = await load_course(session, course_id, for_update=True)
    access.require_course_owner(principal, course)
    stored = {name: course[name] for name in _COURSE_FIELDS}
    try:
        merged = CourseFields.model_validate(stored | data.changes())
    except ValidationError as exc:
        raise validation_problem(exc) from exc
    values = {k: v for k, v in merged.model_dump().items() if v != course[k]}
    if not values:
        return course
    if "course_code" in values:
        await _refuse_taken_code(
            session, course["provider_id"], merged.course_code, course_id=course_id
        )
    try:
        await repository.change_course(session, course_id, {**values, "updated_at": utcnow()})
    except IntegrityError as exc:
        raise errors.course_code_taken(merged.course_code) from exc
    if "level" in values:
        for supervisor_id in await repository.supervisors_of_course(session, course_id):
            await refresh_qualification(session, supervisor_id, levels)
    return await load_course(session, course_id)


# --- matching reported records -------------------------------------------------------------


@dataclass(frozen=True)
class CourseRef:
    """How a report names its course: by id, or by the issuer's own course code."""

    course_id: uuid.UUID | None = None
    course_code: str | None = None


@dataclass
class Lookup:
    """The courses, supervisors and existing records a batch of reports names, read at once.

    A single report is a batch of one: both paths match with the same code.
    """

    courses_by_id: dict[uuid.UUID, RowMapping] = field(default_factory=dict)
    courses_by_code: dict[str, RowMapping] = field(default_factory=dict)
    by_id: dict[uuid.UUID, RowMapping] = field(default_factory=dict)
    by_hsa_id: dict[str, RowMapping] = field(default_factory=dict)
    by_reference: dict[tuple[uuid.UUID, str], RowMapping] = field(default_factory=dict)
    existing: set[tuple[uuid.UUID, uuid.UUID]] = field(default_factory=set)
    # Pairs earlier reports of the batch take: a later one is a duplicate.
    claimed: set[tuple[uuid.UUID, uuid.UUID]] = field(default_factory=set)

    @classmethod
    async def load(
        cls,
        session: AsyncSession,
        reports: Sequence[tuple[CourseRef, RecordFields]],
        *,
        issuer_id: uuid.UUID | None,
    ) -> Lookup:
        """Read what ``reports`` name; course codes are the issuer's own (None: no codes)."""
        codes = [ref.course_code for ref, _ in reports if ref.course_code is not None]
        lookup = cls(
            courses_by_id=await repository.courses_by_id(
                session, (ref.course_id for ref, _ in reports if ref.course_id is not None)
            ),
            courses_by_code=(
                await repository.courses_by_code(session, issuer_id, codes) if issuer_id else {}
            ),
            by_id=await repository.supervisors_by_id(
                session, (r.supervisor_id for _, r in reports if r.supervisor_id is not None)
            ),
            by_hsa_id=await repository.supervisors_by_hsa_id(
                session, (r.hsa_id for _, r in reports if r.hsa_id is not None)
            ),
            by_reference=await repository.supervisors_by_reference(
                session, (ref for _, r in reports if (ref := _reference(r)) is not None)
            ),
        )
        return lookup

    async def load_existing(
        self, session: AsyncSession, pairs: Iterable[tuple[uuid.UUID, uuid.UUID]]
    ) -> None:
        """Read which of ``pairs`` (supervisor, course) already have a record."""
        self.existing = await repository.existing_pairs(session, pairs)

    def course(self, ref: CourseRef, principal: Principal) -> RowMapping:
        """The course a report names, if the caller runs it.

        Raises:
            ProblemError: 404 ``course_not_found``; 403 ``course_not_run_by_caller``.
        """
        if ref.course_id is not None:
            course = self.courses_by_id.get(ref.course_id)
            if course is None:
                raise errors.course_not_found(ref.course_id)
            access.require_issuer(principal, course)
            return course
        course = self.courses_by_code.get(ref.course_code or "")
        if course is None:
            raise errors.course_code_not_found(ref.course_code or "")
        return course

    def supervisor(self, report: RecordFields) -> RowMapping:
        """The active supervisor a report names.

        Raises:
            ProblemError: 422 ``supervisor_not_matched``; 409 ``supervisor_deregistered``.
        """
        found: RowMapping | None
        if report.supervisor_id is not None:
            found, named = self.by_id.get(report.supervisor_id), f"id {report.supervisor_id}"
        elif report.hsa_id is not None:
            found, named = self.by_hsa_id.get(report.hsa_id), f"HSA-id {report.hsa_id}"
        else:
            reference = _reference(report)
            found = self.by_reference.get(reference) if reference else None
            named = f"employer reference {report.employer_reference} of {report.employer_id}"
        if found is None:
            raise errors.supervisor_not_matched(f"No registered supervisor has {named}.")
        if not found["active"]:
            raise errors.supervisor_deregistered(found["id"])
        return found

    def claim(self, supervisor_id: uuid.UUID, course_id: uuid.UUID) -> None:
        """Reserve the pair for this report.

        Raises:
            ProblemError: 409 ``duplicate_training_record`` when stored or claimed before.
        """
        pair = (supervisor_id, course_id)
        if pair in self.existing or pair in self.claimed:
            raise errors.duplicate_training_record(supervisor_id, course_id)
        self.claimed.add(pair)


def _reference(report: RecordFields) -> tuple[uuid.UUID, str] | None:
    if report.employer_id is None or report.employer_reference is None:
        return None
    return report.employer_id, report.employer_reference


def issuer_of_batch(principal: Principal, requested: uuid.UUID | None) -> uuid.UUID | None:
    """Whose course codes a report may use: the caller's, or (admins) the named issuer's."""
    if principal.has_role("admin"):
        return requested
    return principal.organisation_id


@dataclass(frozen=True)
class MatchedReport:
    """A report whose course and supervisor were found and may be stored."""

    report: RecordFields
    course: Mapping[Any, Any]
    supervisor: Mapping[Any, Any]


# --- storing reported records --------------------------------------------------------------


def _new_record(matched: MatchedReport, principal: Principal, now: datetime) -> dict[str, Any]:
    course = matched.course
    return {
        "id": new_id(),
        "supervisor_id": matched.supervisor["id"],
        "course_id": course["id"],
        "status": matched.report.status,
        "completed_on": matched.report.completed_on,
        "verified_at": None,
        # An admin reports on behalf of the organisation running the course.
        "reported_by_organisation_id": principal.organisation_id or course["provider_id"],
        "version": 1,
        "created_at": now,
        "updated_at": now,
    }


def _view(record: Mapping[Any, Any], matched: MatchedReport) -> dict[str, Any]:
    """The record view of a new record, built without reading it back."""
    return {
        **record,
        "course_code": matched.course["course_code"],
        "issuer_id": matched.course["provider_id"],
        "course_level": matched.course["level"],
        "employer_id": matched.supervisor["employer_id"],
    }


async def store_reports(
    session: AsyncSession,
    matched: Sequence[MatchedReport],
    *,
    principal: Principal,
    levels: RequiredLevels,
) -> list[dict[str, Any]]:
    """Insert matched reports, their ``training.recorded`` events and the supervisors'
    recomputed qualification, in the caller's transaction; returns the record views.

    Raises:
        ProblemError: 409 ``duplicate_training_record`` when a concurrent report stored
            one of the pairs after it was checked (nothing of the batch is kept).
    """
    now = utcnow()
    records = [_new_record(m, principal, now) for m in matched]
    try:
        await repository.add_records(session, records)
    except IntegrityError as exc:
        first = matched[0]
        raise errors.duplicate_training_record(first.supervisor["id"], first.course["id"]) from exc
    views = [_view(record, m) for record, m in zip(records, matched, strict=True)]
    for view in views:
        await emit_record_events(session, view)
    for supervisor_id in dict.fromkeys(view["supervisor_id"] for view in views):
        await refresh_qualification(session, supervisor_id, levels)
    return views


async def report_record(
    session: AsyncSession,
    *,
    data: TrainingRecordReport,
    principal: Principal,
    levels: RequiredLevels,
) -> RecordOut:
    """Store one record reported by the organisation running its course.

    Raises:
        ProblemError: 404 ``course_not_found``; 403 ``course_not_run_by_caller``; 422
            ``supervisor_not_matched``; 409 ``supervisor_deregistered`` or
            ``duplicate_training_record``.
    """
    ref = CourseRef(course_id=data.course_id)
    lookup = await Lookup.load(session, [(ref, data)], issuer_id=None)
    course = lookup.course(ref, principal)
    supervisor = lookup.supervisor(data)
    await lookup.load_existing(session, [(supervisor["id"], course["id"])])
    lookup.claim(supervisor["id"], course["id"])
    matched = MatchedReport(data, course, supervisor)
    [view] = await store_reports(session, [matched], principal=principal, levels=levels)
    return RecordOut.model_validate(view)


# --- record transitions --------------------------------------------------------------------


async def _visible_record(
    session: AsyncSession, record_id: uuid.UUID, principal: Principal, *, for_update: bool
) -> RowMapping:
    record = await repository.get_record(session, record_id, for_update=for_update)
    if record is None or not access.may_see_record(principal, record):
        raise errors.record_not_found(record_id)
    return record


def _transition_values(action: str, completed_on: date | None, now: datetime) -> dict[str, Any]:
    values: dict[str, Any] = {"status": transitions.target_of(action), "updated_at": now}
    if action == "complete":
        values["completed_on"] = completed_on
    if action == "verify":
        values["verified_at"] = now
    return values


async def move_record(
    session: AsyncSession,
    record_id: uuid.UUID,
    action: transitions.Action,
    *,
    principal: Principal,
    levels: RequiredLevels,
    completed_on: date | None = None,
) -> RecordOut:
    """Run ``action`` on a record (issuer or admin): the new state, its events, and the
    supervisor's recomputed qualification, in the caller's transaction.

    Raises:
        ProblemError: 404 ``training_record_not_found`` (also to those who may not see
            it); 403 ``course_not_run_by_caller``; 409 ``already_verified`` or
            ``invalid_training_transition``.
    """
    if action == "complete" and completed_on is None:
        raise ValueError("complete needs completed_on")
    record = await _visible_record(session, record_id, principal, for_update=True)
    access.require_issuer(
        principal, {"id": record["course_id"], "provider_id": record["issuer_id"]}
    )
    refused = transitions.refusal(action, record["status"], record_id)
    if refused is not None:
        raise refused
    changed = await repository.change_record(
        session,
        record_id,
        expected_version=record["version"],
        values=_transition_values(action, completed_on, utcnow()),
    )
    if not changed:  # a concurrent change won (SQLite has no row lock to wait on)
        current = await _visible_record(session, record_id, principal, for_update=False)
        raise transitions.refusal(
            action, current["status"], record_id
        ) or errors.invalid_transition(action, current["status"])
    updated = await _visible_record(session, record_id, principal, for_update=False)
    await emit_record_events(session, updated)
    await refresh_qualification(session, updated["supervisor_id"], levels)
    return RecordOut.model_validate(dict(updated))


# --- reading records -----------------------------------------------------------------------


async def get_record(
    session: AsyncSession, record_id: uuid.UUID, *, principal: Principal
) -> RecordOut:
    """One record the caller may see (404 otherwise)."""
    record = await _visible_record(session, record_id, principal, for_update=False)
    return RecordOut.model_validate(dict(record))


async def list_records(
    session: AsyncSession, *, principal: Principal, filters: RecordFilters, page: PageParams
) -> tuple[list[RecordOut], str | None]:
    """A page of the records the caller may see, oldest first, filtered."""
    rows = await repository.record_page(
        session,
        visible=access.records_visible_to(principal),
        filters=filters.model_dump(),
        after=after_id(page),
        limit=page.limit + 1,
    )
    items, cursor = id_page(rows, page.limit)
    return [RecordOut.model_validate(dict(r)) for r in items], cursor
