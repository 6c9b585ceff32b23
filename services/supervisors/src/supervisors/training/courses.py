"""Rules of the course catalogue: courses are public facts run by one organisation
(usually a university), unique by that organisation and its own course code."""

from __future__ import annotations

import uuid
from typing import Final

from pydantic import ValidationError
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from vfu_common.errors import validation_problem
from vfu_common.pagination import PageParams, after_id, id_page
from vfu_common.principal import Principal
from vfu_common.rows import values_of
from vfu_common.utc import utcnow
from vfu_common.uuid7 import new_id

from supervisors.qualification.levels import RequiredLevels
from supervisors.qualification.service import refresh_qualification
from supervisors.training import access, errors, repository
from supervisors.training.models import Course
from supervisors.training.schemas import CourseCreate, CourseFields, CourseOut, CourseUpdate

_COURSE_FIELDS: Final = tuple(CourseFields.model_fields)


def to_course_out(course: Course) -> CourseOut:
    """The API view of a stored course."""
    return CourseOut.model_validate(values_of(course))


async def load_course(
    session: AsyncSession, course_id: uuid.UUID, *, for_update: bool = False
) -> Course:
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
) -> Course:
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
) -> tuple[list[Course], str | None]:
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
) -> Course:
    """Change a course (its organisation or an admin); the merged course is validated whole.

    A level change can move the qualification of everyone with a record of the course, so
    theirs is recomputed in the same transaction.

    Raises:
        ProblemError: 404 ``course_not_found``; 403 ``not_owner``; 409
            ``course_code_taken``; 422 for a merged course breaking a rule.
    """
    course = await load_course(session, course_id, for_update=True)
    access.require_course_owner(principal, course)
    stored = {name: getattr(course, name) for name in _COURSE_FIELDS}
    try:
        merged = CourseFields.model_validate(stored | data.changes())
    except ValidationError as exc:
        raise validation_problem(exc) from exc
    values = {k: v for k, v in merged.model_dump().items() if v != getattr(course, k)}
    if not values:
        return course
    if "course_code" in values:
        await _refuse_taken_code(
            session, course.provider_id, merged.course_code, course_id=course_id
        )
    try:
        await repository.change_course(session, course_id, {**values, "updated_at": utcnow()})
    except IntegrityError as exc:
        raise errors.course_code_taken(merged.course_code) from exc
    if "level" in values:
        for supervisor_id in await repository.supervisors_of_course(session, course_id):
            await refresh_qualification(session, supervisor_id, levels)
    return await load_course(session, course_id)
