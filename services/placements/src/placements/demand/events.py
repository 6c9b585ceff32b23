"""Demand events, written to the outbox in the transaction of the change."""

from __future__ import annotations

import json
from typing import Final

from sqlalchemy.ext.asyncio import AsyncSession
from vfu_common.events.contracts import EventContract
from vfu_common.messaging.outbox import emit
from vfu_common.rows import values_of

from placements.demand.models import DemandLine

SOURCE: Final = "/vfu/placements"
_LISTS: Final = ("care_settings", "municipality_codes", "county_codes")


def line_state(line: DemandLine) -> dict[str, object]:
    """The line's fields with its JSON lists read back."""
    values = values_of(line)
    for name in _LISTS:
        values[name] = json.loads(values[name])
    return values


async def emit_line_event(session: AsyncSession, contract: EventContract, line: DemandLine) -> None:
    """``contract``'s event (submitted, changed, withdrawn) with the line's full state."""
    state = line_state(line)
    payload = contract.payload.model_validate({"demand_line_id": line.id, **state})
    await emit(
        session,
        contract,
        payload,
        source=SOURCE,
        aggregate_id=line.id,
        aggregate_version=line.version,
    )
