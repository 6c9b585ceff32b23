"""The allocation run's state machine and the only code that changes a run's status.

``running → preview`` (solved) or ``running → failed`` (the solver raised, or the run
outlived its deadline: its process died), and ``preview → published``. Each move is a
conditional UPDATE on the status the run is in, so a run finished twice, or published by
two coordinators at once, moves once: the loser changes nothing and is told so.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Final

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from placements.allocation.models import allocation_runs
from placements.vocabularies import RunStatus

RUNNING: Final[RunStatus] = "running"
PREVIEW: Final[RunStatus] = "preview"
FAILED: Final[RunStatus] = "failed"
PUBLISHED: Final[RunStatus] = "published"

_c = allocation_runs.c


def started(values: dict[str, Any]) -> dict[str, Any]:
    """A new run's row: running, version 1, nothing solved yet."""
    return {
        **values,
        "status": RUNNING,
        "result": None,
        "report": None,
        "error": None,
        "finished_at": None,
        "published_at": None,
        "published_by": None,
        "version": 1,
    }


async def _move(
    session: AsyncSession, where: Any, source: RunStatus, values: dict[str, Any]
) -> int:
    result = await session.execute(
        update(allocation_runs)
        .where(where, _c.status == source)
        .values(**values, version=_c.version + 1)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


async def solved(
    session: AsyncSession, run_id: uuid.UUID, *, result: str, report: str, now: datetime
) -> bool:
    """running → preview with the solver's result; False if the run is no longer running."""
    values = {"status": PREVIEW, "result": result, "report": report, "finished_at": now}
    return await _move(session, _c.id == run_id, RUNNING, values) == 1


async def failed(session: AsyncSession, run_id: uuid.UUID, *, error: str, now: datetime) -> bool:
    """running → failed with the reason."""
    values = {"status": FAILED, "error": error[:500], "finished_at": now}
    return await _move(session, _c.id == run_id, RUNNING, values) == 1


async def fail_overdue(session: AsyncSession, round_id: uuid.UUID, *, now: datetime) -> int:
    """Fail the round's running run whose deadline has passed (its process died)."""
    where = (_c.round_id == round_id) & (_c.deadline_at < now)
    values = {"status": FAILED, "error": "interrupted: the run outlived its deadline"}
    return await _move(session, where, RUNNING, {**values, "finished_at": now})


async def published(session: AsyncSession, run_id: uuid.UUID, *, by: str, now: datetime) -> bool:
    """preview → published."""
    values = {"status": PUBLISHED, "published_at": now, "published_by": by}
    return await _move(session, _c.id == run_id, PREVIEW, values) == 1
