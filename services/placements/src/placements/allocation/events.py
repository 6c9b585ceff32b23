"""The ``allocation.published`` event, from the run and its stored snapshot."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from vfu_common.events.contracts import ALLOCATION_PUBLISHED
from vfu_common.messaging.outbox import emit

from placements.allocation.models import AllocationRun
from placements.rounds.models import PlanningRound

SOURCE = "/vfu/placements"


async def emit_published(
    session: AsyncSession,
    round_: PlanningRound,
    run: AllocationRun,
    snapshot: dict[str, Any],
    result: dict[str, Any],
    *,
    bookings: int,
) -> None:
    """Announce the publication in the transaction that made its bookings."""
    got: dict[str, int] = {}
    for line, _, n in result["places"]:
        got[line] = got.get(line, 0) + n
    payload = ALLOCATION_PUBLISHED.payload.model_validate(
        {
            "round_id": round_.id,
            "run_id": run.id,
            "term": round_.term,
            "policy_version": run.policy_version,
            "seed": run.seed,
            "input_digest": run.input_digest,
            "bookings": bookings,
            "places": sum(got.values()),
            "lines": [
                {
                    "demand_line_id": line["id"],
                    "university_id": line["university_id"],
                    "students": line["students"],
                    "allocated": got.get(line["id"], 0),
                }
                for line in snapshot["lines"]
            ],
        }
    )
    await emit(
        session,
        ALLOCATION_PUBLISHED,
        payload,
        source=SOURCE,
        aggregate_id=run.id,
        aggregate_version=run.version,
    )
