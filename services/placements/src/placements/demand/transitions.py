"""The demand line's two states and the only code that sets them.

``active → withdrawn``, nothing else: a line is submitted active, may change while
active (its fields, not its status) and is kept when withdrawn, so the round's record of
what was asked for stays whole. Changes are conditional on the version read.
"""

from __future__ import annotations

from typing import Any, Final

from sqlalchemy.ext.asyncio import AsyncSession
from vfu_common.events.contracts import DemandLineStatus
from vfu_common.utc import utcnow

from placements.demand import repository
from placements.demand.models import DemandLine

# The lines that count: in totals, in allocation, and the only ones that may change.
COUNTING: Final[DemandLineStatus] = "active"
WITHDRAWN: Final[DemandLineStatus] = "withdrawn"


def submitted(values: dict[str, Any]) -> dict[str, Any]:
    """A new line's row: active, at version 1."""
    return {**values, "status": COUNTING, "version": 1}


def is_withdrawn(line: DemandLine) -> bool:
    return line.status == WITHDRAWN


async def withdraw(session: AsyncSession, line: DemandLine) -> bool:
    """Move an active line to withdrawn; False if it moved since it was read."""
    return await repository.change(session, line, {"status": WITHDRAWN, "updated_at": utcnow()})
