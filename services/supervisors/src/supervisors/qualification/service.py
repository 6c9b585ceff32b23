"""Keeping each supervisor's qualification current, in the transaction of the change.

A supervisor has one licensed profession, so the qualification lives on the supervisor
row. It is recomputed after every change that can move it (licence, training records,
configured levels seen on the next change) and announced with ``qualification.changed``
only when ``qualified`` or ``level_achieved`` moved: consumers gate on those two.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from vfu_common.utc import utcnow
from vfu_domain.qualification import evaluate, highest_level

from supervisors.qualification import repository
from supervisors.qualification.levels import RequiredLevels
from supervisors.registry import repository as registry
from supervisors.registry.events import emit_qualification_changed
from supervisors.registry.models import Supervisor

_QUALIFICATION_COLUMNS = ("level_achieved", "required_level", "qualified", "qualification_reason")


def assess(
    *,
    licence_verified: bool,
    level_achieved: str | None,
    required_level: str,
    previous: Supervisor | None,
    now: datetime,
) -> dict[str, Any]:
    """The qualification columns for these facts, with since/lapsed moved from ``previous``.

    ``previous`` is the stored row (None for a new supervisor). "Lapsed" means it was
    qualified and now is not; qualifying again clears the lapse.
    """
    decision = evaluate(
        licence_verified=licence_verified,
        level_achieved=level_achieved,
        required_level=required_level,
    )
    was_qualified = previous is not None and previous.qualified
    since = previous.qualified_since if previous else None
    lapsed = previous.qualification_lapsed_at if previous else None
    if decision.qualified and not was_qualified:
        since, lapsed = now, None
    elif not decision.qualified and was_qualified:
        since, lapsed = None, now
    return {
        "level_achieved": level_achieved,
        "required_level": required_level,
        "qualified": decision.qualified,
        "qualification_reason": decision.reason,
        "qualified_since": since,
        "qualification_lapsed_at": lapsed,
    }


async def refresh_qualification(
    session: AsyncSession, supervisor_id: uuid.UUID, levels: RequiredLevels
) -> None:
    """Recompute the supervisor's qualification from licence and qualifying training.

    Stores ``level_achieved`` (the highest level of completed or verified records),
    ``required_level`` (the profession's configured level), ``qualified`` and its reason,
    ``qualified_since`` and ``qualification_lapsed_at``; counts a change in ``version``
    and emits ``qualification.changed`` when ``qualified`` or ``level_achieved`` moved.
    The caller owns the transaction; an unknown supervisor id is a programming error.
    """
    row = await registry.get(session, supervisor_id, for_update=True)
    if row is None:
        raise LookupError(f"no supervisor {supervisor_id}")
    achieved = highest_level(await repository.qualifying_course_levels(session, supervisor_id))
    values = assess(
        licence_verified=row.licence_verified,
        level_achieved=achieved,
        required_level=levels.for_profession(row.profession_code),
        previous=row,
        now=utcnow(),
    )
    if all(values[name] == getattr(row, name) for name in _QUALIFICATION_COLUMNS):
        return
    await registry.change(session, supervisor_id, {**values, "updated_at": utcnow()})
    if values["qualified"] == row.qualified and achieved == row.level_achieved:
        return
    updated = await registry.get(session, supervisor_id)
    assert updated is not None
    await emit_qualification_changed(
        session,
        updated,
        await registry.unit_ids(session, supervisor_id),
        previous_qualified=row.qualified,
        previous_level_achieved=row.level_achieved,
    )
