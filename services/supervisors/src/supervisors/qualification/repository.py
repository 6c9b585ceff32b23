"""Queries of the qualification computation (SQLAlchemy Core)."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from vfu_domain.qualification import QUALIFYING_RECORD_STATUSES

from supervisors.training.models import training_courses, training_records


async def qualifying_course_levels(session: AsyncSession, supervisor_id: uuid.UUID) -> list[str]:
    """The course levels of the supervisor's records that count (completed or verified)."""
    stmt = (
        select(training_courses.c.level)
        .join(training_records, training_records.c.course_id == training_courses.c.id)
        .where(
            training_records.c.supervisor_id == supervisor_id,
            training_records.c.status.in_(sorted(QUALIFYING_RECORD_STATUSES)),
        )
    )
    return [str(level) for level in (await session.execute(stmt)).scalars()]
