"""Writing events into the outbox in the same transaction as the change they describe."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from vfu_common.events.contracts import EventContract, EventPayload
from vfu_common.events.envelope import Envelope
from vfu_common.logging import current_correlation_id, current_traceparent
from vfu_common.messaging.tables import outbox
from vfu_common.utc import utcnow


async def add_event(session: AsyncSession, envelope: Envelope) -> None:
    """Stage ``envelope`` for publication; it is published only if the transaction commits."""
    await session.execute(
        outbox.insert().values(
            event_id=envelope.id,
            subject=envelope.type,
            payload=envelope.to_bytes(),
            created_at=utcnow(),
        )
    )
    # Read by Database's after_commit hook to wake the relay at once.
    session.sync_session.info["outbox_dirty"] = True


def build_envelope(
    contract: EventContract,
    payload: EventPayload,
    *,
    source: str,
    aggregate_id: uuid.UUID | str,
    aggregate_version: int,
    causation_id: str | None = None,
) -> Envelope:
    """Wrap a typed payload in the CloudEvents envelope, with the request's correlation."""
    if not isinstance(payload, contract.payload):
        raise TypeError(f"{contract.event_type} expects {contract.payload.__name__}")
    return Envelope(
        type=contract.event_type,
        source=source,
        subject=str(aggregate_id),
        data=payload.model_dump(mode="json"),
        aggregateid=str(aggregate_id),
        aggregatetype=contract.aggregate_type,
        aggregateversion=aggregate_version,
        correlationid=current_correlation_id(),
        causationid=causation_id,
        traceparent=current_traceparent(),
    )


async def emit(
    session: AsyncSession,
    contract: EventContract,
    payload: EventPayload,
    *,
    source: str,
    aggregate_id: uuid.UUID | str,
    aggregate_version: int,
) -> Envelope:
    """Build an envelope for ``payload`` and add it to the outbox; returns the envelope."""
    envelope = build_envelope(
        contract,
        payload,
        source=source,
        aggregate_id=aggregate_id,
        aggregate_version=aggregate_version,
    )
    await add_event(session, envelope)
    return envelope
