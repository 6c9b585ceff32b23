"""Unit events: a unit's public facts (UnitV1), written to the outbox in the change's
transaction, so the supervisors service can check supervisors' units against them."""

from __future__ import annotations

from typing import Final

from sqlalchemy.ext.asyncio import AsyncSession
from vfu_common.events.contracts import EventContract, UnitV1
from vfu_common.messaging.outbox import emit

from placements.units.models import Unit

SOURCE: Final = "/vfu/placements"
_FIELDS: Final = frozenset(UnitV1.model_fields) - {"unit_id"}


async def emit_unit_event(session: AsyncSession, contract: EventContract, unit: Unit) -> None:
    """``contract``'s event (registered or changed) for the stored ``unit``; aggregate
    version = the unit's version."""
    payload = contract.payload.model_validate(
        {"unit_id": unit.id, **{name: getattr(unit, name) for name in _FIELDS}}
    )
    await emit(
        session,
        contract,
        payload,
        source=SOURCE,
        aggregate_id=unit.id,
        aggregate_version=unit.version,
    )
