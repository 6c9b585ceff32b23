"""HTTP endpoints of the training feature: parse, call one service function, answer."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, status
from vfu_common.errors import problem_responses
from vfu_common.events.contracts import TrainingLevel
from vfu_common.pagination import Page
from vfu_common.web.deps import DatabaseDep, PageDep, PrincipalDep

from supervisors.qualification.levels import RequiredLevelsDep
from supervisors.training import courses, service
from supervisors.training.schemas import (
    CourseCreate,
    CourseOut,
    CourseUpdate,
    RecordCompletion,
    RecordFilters,
    RecordOut,
    TrainingRecordReport,
)
from supervisors.training.transitions import Action

router = APIRouter(prefix="/api/v1/supervisors")
COURSES = "/courses"
COURSE = COURSES + "/{course_id}"
RECORDS = "/training-records"
RECORD = RECORDS + "/{record_id}"
_TRANSITION_PROBLEMS = problem_responses(401, 403, 404, 409, 422, 503)


@router.post(
    COURSES,
    status_code=status.HTTP_201_CREATED,
    response_model=CourseOut,
    responses=problem_responses(401, 403, 409, 422),
    summary="Add a supervisor training course",
    tags=["training courses"],
)
async def create_course(body: CourseCreate, db: DatabaseDep, principal: PrincipalDep) -> Any:
    """A course run by the caller's organisation (an admin names ``provider_id``); the
    course code is unique per organisation (409 ``course_code_taken``)."""
    async with db.write() as session:
        course = await courses.create_course(session, data=body, principal=principal)
    return courses.to_course_out(course)


@router.get(
    COURSES,
    response_model=Page[CourseOut],
    responses=problem_responses(400, 401, 422),
    summary="The training course catalogue",
    tags=["training courses"],
)
async def list_courses(
    db: DatabaseDep,
    page: PageDep,
    provider_id: uuid.UUID | None = None,
    level: TrainingLevel | None = None,
) -> Page[CourseOut]:
    """Every course, or one organisation's or one level's; the catalogue is public."""
    async with db.read() as session:
        rows, next_cursor = await courses.list_courses(
            session, provider_id=provider_id, level=level, page=page
        )
    return Page[CourseOut](items=[courses.to_course_out(r) for r in rows], next_cursor=next_cursor)


@router.get(
    COURSE,
    response_model=CourseOut,
    responses=problem_responses(401, 404),
    summary="One training course",
    tags=["training courses"],
)
async def read_course(course_id: uuid.UUID, db: DatabaseDep) -> CourseOut:
    """One course of the catalogue."""
    async with db.read() as session:
        return courses.to_course_out(await courses.load_course(session, course_id))


@router.patch(
    COURSE,
    response_model=CourseOut,
    responses=problem_responses(401, 403, 404, 409, 422),
    summary="Change a training course",
    tags=["training courses"],
)
async def update_course(
    course_id: uuid.UUID,
    body: CourseUpdate,
    db: DatabaseDep,
    principal: PrincipalDep,
    levels: RequiredLevelsDep,
) -> CourseOut:
    """Change a course (its organisation or an admin); a level change recomputes the
    qualification of the supervisors with records of it."""
    async with db.write() as session:
        course = await courses.update_course(
            session, course_id, data=body, principal=principal, levels=levels
        )
    return courses.to_course_out(course)


@router.post(
    RECORDS,
    status_code=status.HTTP_201_CREATED,
    response_model=RecordOut,
    responses=problem_responses(401, 403, 404, 409, 422, 503),
    summary="Report a supervisor's training",
    tags=["training records"],
)
async def report_record(
    body: TrainingRecordReport,
    db: DatabaseDep,
    principal: PrincipalDep,
    levels: RequiredLevelsDep,
) -> RecordOut:
    """The organisation running the course reports a supervisor's record (default
    ``completed``, with ``completed_on``), naming the supervisor by exactly one of
    ``supervisor_id``, ``hsa_id`` or ``employer_id`` + ``employer_reference``.

    Refused with 404 ``course_not_found``, 403 ``course_not_run_by_caller``, 422
    ``supervisor_not_matched``, 409 ``supervisor_deregistered`` or
    ``duplicate_training_record``.
    """
    async with db.write() as session:
        return await service.report_record(session, data=body, principal=principal, levels=levels)


@router.get(
    RECORDS,
    response_model=Page[RecordOut],
    responses=problem_responses(400, 401, 403, 422),
    summary="Training records",
    tags=["training records"],
)
async def list_records(
    db: DatabaseDep,
    principal: PrincipalDep,
    page: PageDep,
    filters: Annotated[RecordFilters, Depends()],
) -> Page[RecordOut]:
    """Records of the caller's courses (issuer), of its staff (employer); all for
    coordinators and admins; oldest first, filtered by supervisor, course and status."""
    async with db.read() as session:
        items, next_cursor = await service.list_records(
            session, principal=principal, filters=filters, page=page
        )
    return Page[RecordOut](items=items, next_cursor=next_cursor)


@router.get(
    RECORD,
    response_model=RecordOut,
    responses=problem_responses(401, 403, 404),
    summary="One training record",
    tags=["training records"],
)
async def read_record(record_id: uuid.UUID, db: DatabaseDep, principal: PrincipalDep) -> RecordOut:
    """One record the caller may see (404 otherwise)."""
    async with db.read() as session:
        return await service.get_record(session, record_id, principal=principal)


async def _move(
    db: DatabaseDep,
    record_id: uuid.UUID,
    action: Action,
    principal: PrincipalDep,
    levels: RequiredLevelsDep,
    completion: RecordCompletion | None = None,
) -> RecordOut:
    async with db.write() as session:
        return await service.move_record(
            session,
            record_id,
            action,
            principal=principal,
            levels=levels,
            completed_on=completion.completed_on if completion else None,
        )


@router.post(
    RECORD + "/start",
    response_model=RecordOut,
    responses=_TRANSITION_PROBLEMS,
    summary="Start a training record",
    tags=["training records"],
)
async def start_record(
    record_id: uuid.UUID, db: DatabaseDep, principal: PrincipalDep, levels: RequiredLevelsDep
) -> RecordOut:
    """registered → in_progress (issuer or admin)."""
    return await _move(db, record_id, "start", principal, levels)


@router.post(
    RECORD + "/complete",
    response_model=RecordOut,
    responses=_TRANSITION_PROBLEMS,
    summary="Complete a training record",
    tags=["training records"],
)
async def complete_record(
    record_id: uuid.UUID,
    body: RecordCompletion,
    db: DatabaseDep,
    principal: PrincipalDep,
    levels: RequiredLevelsDep,
) -> RecordOut:
    """registered | in_progress → completed on ``completed_on`` (not in the future)."""
    return await _move(db, record_id, "complete", principal, levels, body)


@router.post(
    RECORD + "/fail",
    response_model=RecordOut,
    responses=_TRANSITION_PROBLEMS,
    summary="Fail a training record",
    tags=["training records"],
)
async def fail_record(
    record_id: uuid.UUID, db: DatabaseDep, principal: PrincipalDep, levels: RequiredLevelsDep
) -> RecordOut:
    """registered | in_progress → failed (issuer or admin)."""
    return await _move(db, record_id, "fail", principal, levels)


@router.post(
    RECORD + "/withdraw",
    response_model=RecordOut,
    responses=_TRANSITION_PROBLEMS,
    summary="Withdraw a training record",
    tags=["training records"],
)
async def withdraw_record(
    record_id: uuid.UUID, db: DatabaseDep, principal: PrincipalDep, levels: RequiredLevelsDep
) -> RecordOut:
    """registered | in_progress → withdrawn (issuer or admin)."""
    return await _move(db, record_id, "withdraw", principal, levels)


@router.post(
    RECORD + "/reenrol",
    response_model=RecordOut,
    responses=_TRANSITION_PROBLEMS,
    summary="Re-enrol a supervisor on a course",
    tags=["training records"],
)
async def reenrol_record(
    record_id: uuid.UUID, db: DatabaseDep, principal: PrincipalDep, levels: RequiredLevelsDep
) -> RecordOut:
    """failed | withdrawn → registered: a retake re-opens the one record of the pair."""
    return await _move(db, record_id, "reenrol", principal, levels)


@router.post(
    RECORD + "/verify",
    response_model=RecordOut,
    responses=_TRANSITION_PROBLEMS,
    summary="Verify a completed training record",
    tags=["training records"],
)
async def verify_record(
    record_id: uuid.UUID, db: DatabaseDep, principal: PrincipalDep, levels: RequiredLevelsDep
) -> RecordOut:
    """completed → verified by the issuing organisation (409 ``already_verified`` twice)."""
    return await _move(db, record_id, "verify", principal, levels)
