"""Round events, written to the outbox in the transaction of the change."""

from __future__ import annotations

import json
from datetime import date
from typing import Final

from sqlalchemy.ext.asyncio import AsyncSession
from vfu_common.events.contracts import (
    ROUND_GATE_PASSED,
    ROUND_OPENED,
    ROUND_POLICY_PUBLISHED,
    RoundGate,
)
from vfu_common.messaging.outbox import emit

from placements.rounds.models import GATES, PlanningRound

SOURCE: Final = "/vfu/placements"


def round_state(round_: PlanningRound, scope: list[tuple[str, str]]) -> dict[str, object]:
    """The RoundV1 fields of a stored round."""
    return {
        "round_id": round_.id,
        "owner_id": round_.owner_id,
        "term": round_.term,
        "title": round_.title,
        "mode": round_.mode,
        "scope": {
            "provider_ids": [ref for kind, ref in scope if kind == "provider"],
            "unit_ids": [ref for kind, ref in scope if kind == "unit"],
            "municipality_codes": [ref for kind, ref in scope if kind == "municipality"],
        },
        "gates": {gate: round_.gate_date(gate) for gate in GATES},
        "policy_version": round_.policy_version,
    }


async def emit_opened(
    session: AsyncSession, round_: PlanningRound, scope: list[tuple[str, str]]
) -> None:
    """``round.opened`` with the round's full state (aggregate version 1)."""
    payload = ROUND_OPENED.payload.model_validate(round_state(round_, scope))
    await emit(
        session,
        ROUND_OPENED,
        payload,
        source=SOURCE,
        aggregate_id=round_.id,
        aggregate_version=round_.version,
    )


async def emit_policy_published(
    session: AsyncSession, round_: PlanningRound, version: int, body: str, aggregate_version: int
) -> None:
    """``round.policy_published`` with the policy as stored."""
    payload = ROUND_POLICY_PUBLISHED.payload.model_validate(
        {"round_id": round_.id, "version": version, "policy": json.loads(body)}
    )
    await emit(
        session,
        ROUND_POLICY_PUBLISHED,
        payload,
        source=SOURCE,
        aggregate_id=round_.id,
        aggregate_version=aggregate_version,
    )


async def emit_gate_passed(
    session: AsyncSession, round_: PlanningRound, gate: RoundGate, day: date, aggregate_version: int
) -> None:
    """``round.gate_passed``: the clock passed ``gate`` of the round."""
    payload = ROUND_GATE_PASSED.payload.model_validate(
        {"round_id": round_.id, "term": round_.term, "gate": gate, "date": day}
    )
    await emit(
        session,
        ROUND_GATE_PASSED,
        payload,
        source=SOURCE,
        aggregate_id=round_.id,
        aggregate_version=aggregate_version,
    )
