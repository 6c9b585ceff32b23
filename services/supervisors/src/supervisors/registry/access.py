"""Who sees which supervisor, and how much.

- the employer (a provider whose organisation employs the supervisor) and admins see
  every field and may change the supervisor;
- a university sees every field of supervisors assigned, now or in the past, to one of
  its bookings (from the assignment projection), and nothing of others;
- coordinators see every supervisor without personal fields;
- portals are refused by the access matrix; anyone else gets 404, as if the supervisor
  did not exist, so ids cannot be probed.
"""

from __future__ import annotations

import uuid
from typing import Literal

from sqlalchemy.ext.asyncio import AsyncSession
from vfu_common.principal import Principal

from supervisors.projections.assignments import university_may_see
from supervisors.registry.models import Supervisor

View = Literal["full", "summary"]


def is_employer(principal: Principal, employer_id: uuid.UUID) -> bool:
    """The provider organisation employing the supervisor, acting as provider."""
    return principal.has_role("provider") and principal.organisation_id == employer_id


def may_manage(principal: Principal, supervisor: Supervisor) -> bool:
    """Admins and the employer change a supervisor."""
    return principal.has_role("admin") or is_employer(principal, supervisor.employer_id)


async def view_of(
    session: AsyncSession, principal: Principal, supervisor: Supervisor
) -> View | None:
    """How much of ``supervisor`` the caller sees (None: nothing, answer 404)."""
    if may_manage(principal, supervisor):
        return "full"
    if (
        principal.has_role("university")
        and principal.organisation_id is not None
        and await university_may_see(session, principal.organisation_id, supervisor.id)
    ):
        return "full"
    if principal.has_role("coordinator"):
        return "summary"
    return None
