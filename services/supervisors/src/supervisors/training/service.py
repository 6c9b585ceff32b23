"""Rules of training records: storing what the organisation running a course reports,
moving records through ``transitions``, and reading them.

The organisation running the course reports a record (one at a time here, in bulk in
``supervisors.imports``, through the same matching and storing functions). Every record
change is one transaction holding the record, its events and the supervisor's
recomputed qualification (``refresh_qualification``), so a qualification never disagrees
with the records it is computed from.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, datetime

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from vfu_common.pagination import PageParams, after_id, id_page
from vfu_common.principal import Principal
from vfu_common.rows import values_of
from vfu_common.utc import utcnow
from vfu_common.uuid7 import new_id

from supervisors.qualification.levels import RequiredLevels
from supervisors.qualification.service import refresh_qualification
from supervisors.training import access, errors, repository, transitions
from supervisors.training.events import emit_record_events
from supervisors.training.matching import CourseRef, Lookup, MatchedReport
from supervisors.training.repository import RecordView
from supervisors.training.schemas import RecordFilters, RecordOut, TrainingRecordReport

# --- storing reported records --------------------------------------------------------------


def _new_record(matched: MatchedReport, principal: Principal, now: datetime) -> RecordView:
    """The record view of a new record, built without reading it back."""
    course, supervisor = matched.course, matched.supervisor
    values = {
        "id": new_id(),
        "supervisor_id": supervisor.id,
        "course_id": course.id,
        "completed_on": matched.report.completed_on,
        "verified_at": None,
        # An admin reports on behalf of the organisation running the course.
        "reported_by_organisation_id": principal.organisation_id or course.provider_id,
        "version": 1,
        "created_at": now,
        "updated_at": now,
    }
    return RecordView(
        **transitions.opened(values, reported=matched.report.status),
        course_code=course.course_code,
        issuer_id=course.provider_id,
        course_level=course.level,
        employer_id=supervisor.employer_id,
    )


async def store_reports(
    session: AsyncSession,
    matched: Sequence[MatchedReport],
    *,
    principal: Principal,
    levels: RequiredLevels,
) -> list[RecordView]:
    """Insert matched reports, their ``training.recorded`` events and the supervisors'
    recomputed qualification, in the caller's transaction; returns the record views.

    Raises:
        ProblemError: 409 ``duplicate_training_record`` when a concurrent report stored
            one of the pairs after it was checked (nothing of the batch is kept).
    """
    now = utcnow()
    views = [_new_record(m, principal, now) for m in matched]
    try:
        await repository.add_records(session, [repository.record_of(view) for view in views])
    except IntegrityError as exc:
        first = matched[0]
        raise errors.duplicate_training_record(first.supervisor.id, first.course.id) from exc
    for view in views:
        await emit_record_events(session, view)
    for supervisor_id in dict.fromkeys(view.supervisor_id for view in views):
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
    await lookup.load_existing(session, [(supervisor.id, course.id)])
    lookup.claim(supervisor.id, course.id)
    matched = MatchedReport(data, course, supervisor)
    [view] = await store_reports(session, [matched], principal=principal, levels=levels)
    return to_out(view)


def to_out(record: RecordView) -> RecordOut:
    """The API view of a record."""
    return RecordOut.model_validate(values_of(record))


# --- record transitions --------------------------------------------------------------------


async def _visible_record(
    session: AsyncSession, record_id: uuid.UUID, principal: Principal, *, for_update: bool
) -> RecordView:
    record = await repository.get_record(session, record_id, for_update=for_update)
    if record is None or not access.may_see_record(principal, record):
        raise errors.record_not_found(record_id)
    return record


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
    access.require_issuer(principal, record.course_id, record.issuer_id)
    refused = transitions.refusal(action, record.status, record.id)
    if refused is not None:
        raise refused
    if not await transitions.apply(session, record, action, completed_on=completed_on):
        # A concurrent change won (SQLite has no row lock to wait on).
        current = await _visible_record(session, record_id, principal, for_update=False)
        raise transitions.refusal(action, current.status, record_id) or errors.invalid_transition(
            action, current.status
        )
    updated = await _visible_record(session, record_id, principal, for_update=False)
    await emit_record_events(session, updated)
    await refresh_qualification(session, updated.supervisor_id, levels)
    return to_out(updated)


# --- reading records -----------------------------------------------------------------------


async def get_record(
    session: AsyncSession, record_id: uuid.UUID, *, principal: Principal
) -> RecordOut:
    """One record the caller may see (404 otherwise)."""
    record = await _visible_record(session, record_id, principal, for_update=False)
    return to_out(record)


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
    return [to_out(r) for r in items], cursor
