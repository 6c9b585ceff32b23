"""The unit read model: the supervisors service's copy of the placements service's care units.

Reports name units and check that a unit belongs to the provider asked about; they read
this copy, never the placements service. Unit events carry the unit's full public state,
so each event replaces the row of its ``unit_id`` when its aggregate version is newer:
order and duplicates cannot corrupt the model, and a replay rebuilds it.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any, Final

from sqlalchemy import Column, Index, Integer, String, Table, Uuid, select
from sqlalchemy.ext.asyncio import AsyncSession
from vfu_common.db import UtcDateTime, upsert_if_newer
from vfu_common.events.contracts import UNIT_CHANGED, UNIT_REGISTERED, UnitV1
from vfu_common.events.envelope import Envelope
from vfu_common.messaging.consumer import Handler
from vfu_common.utc import utcnow

from supervisors.models import metadata

TABLE: Final = "unit_projection"
_BY_PROVIDER: Final = "ix_unit_projection_provider"


def _columns() -> list[Any]:
    return [
        Column("unit_id", Uuid, primary_key=True),
        Column("provider_id", Uuid, nullable=False),
        Column("name", String(200), nullable=False),
        Column("municipality_code", String(4), nullable=False),
        Column("care_setting", String(40), nullable=False),
        Column("aggregate_version", Integer, nullable=False),
        Column("updated_at", UtcDateTime, nullable=False),
    ]


unit_projection = Table(TABLE, metadata, *_columns())
Index(_BY_PROVIDER, unit_projection.c.provider_id, unit_projection.c.unit_id)


async def on_unit_event(session: AsyncSession, envelope: Envelope, payload: UnitV1) -> None:
    """Store the unit's state the event carries, if its aggregate version is newer."""
    await upsert_if_newer(
        session,
        unit_projection,
        {
            "unit_id": payload.unit_id,
            "provider_id": payload.provider_id,
            "name": payload.name,
            "municipality_code": payload.municipality_code,
            "care_setting": payload.care_setting,
            "aggregate_version": envelope.aggregateversion,
            "updated_at": utcnow(),
        },
        key="unit_id",
    )


async def unit_names(session: AsyncSession, unit_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, str]:
    """The names of those of ``unit_ids`` the projection knows (unknown ones are left out)."""
    wanted = sorted(set(unit_ids))
    if not wanted:
        return {}
    stmt = select(unit_projection.c.unit_id, unit_projection.c.name).where(
        unit_projection.c.unit_id.in_(wanted)
    )
    return {row.unit_id: row.name for row in await session.execute(stmt)}


HANDLERS: dict[str, Handler] = {
    UNIT_REGISTERED.event_type: on_unit_event,
    UNIT_CHANGED.event_type: on_unit_event,
}
