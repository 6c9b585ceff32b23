"""The supervisor read model: the placements service's copy of every supervisor.

Every supervisor event (registered, changed, qualification changed) carries the full
SupervisorV1, so each one replaces the row of its ``supervisor_id`` when its aggregate
version is newer than the stored one: order and duplicates cannot corrupt the model, and
replaying the SUPERVISORS stream rebuilds it. The supervisors service is the only
authority; this copy holds no personal field because the events carry none.
"""

from __future__ import annotations

from sqlalchemy import delete, insert
from sqlalchemy.ext.asyncio import AsyncSession
from vfu_common.db import upsert_if_newer
from vfu_common.events.contracts import (
    QUALIFICATION_CHANGED,
    SUPERVISOR_CHANGED,
    SUPERVISOR_REGISTERED,
    SupervisorV1,
)
from vfu_common.events.envelope import Envelope
from vfu_common.messaging.consumer import Handler
from vfu_common.utc import utcnow

from placements.supervision.models import supervisor_projection, supervisor_projection_units
from placements.supervision.release import release_for_deregistered


async def on_supervisor_event(
    session: AsyncSession, envelope: Envelope, payload: SupervisorV1
) -> None:
    """Apply the supervisor's state if the event is newer than the stored one.

    A supervisor their employer deregistered (``active`` false) leaves every active
    assignment at once, announced with reason ``supervisor_deregistered``, so the
    students' booking can get another supervisor and the supervisors service's load
    count follows.
    """
    written = await upsert_if_newer(
        session,
        supervisor_projection,
        {
            "supervisor_id": payload.supervisor_id,
            "employer_id": payload.employer_id,
            "profession_code": payload.profession_code,
            "max_concurrent_students": payload.max_concurrent_students,
            "active": payload.active,
            "licence_verified": payload.licence_verified,
            "level_achieved": payload.level_achieved,
            "required_level": payload.required_level,
            "qualified": payload.qualified,
            "aggregate_version": envelope.aggregateversion,
            "updated_at": utcnow(),
        },
        key="supervisor_id",
    )
    if not written:
        return
    await _replace_units(session, payload)
    if not payload.active:
        await release_for_deregistered(session, payload.supervisor_id)


async def _replace_units(session: AsyncSession, payload: SupervisorV1) -> None:
    # Replaced, not merged: a unit the employer removed must stop counting. The upsert
    # above holds the row's lock on PostgreSQL, so an older event cannot interleave.
    units = supervisor_projection_units
    await session.execute(delete(units).where(units.c.supervisor_id == payload.supervisor_id))
    unit_ids = dict.fromkeys(payload.unit_ids)  # a unit listed twice is stored once
    if unit_ids:
        await session.execute(
            insert(units),
            [{"supervisor_id": payload.supervisor_id, "unit_id": unit} for unit in unit_ids],
        )


HANDLERS: dict[str, Handler] = {
    contract.event_type: on_supervisor_event
    for contract in (SUPERVISOR_REGISTERED, SUPERVISOR_CHANGED, QUALIFICATION_CHANGED)
}
