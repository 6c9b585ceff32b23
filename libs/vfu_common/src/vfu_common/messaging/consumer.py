"""Durable pull consumers with an inbox: every event has its effect exactly once.

Per message: open a write transaction, claim the event id in the inbox
(``INSERT ... ON CONFLICT DO NOTHING``), run the handler, commit, then ack. A duplicate
delivery finds its claim and is acked without effect. On a transient failure the message
is ``nak``-ed with a growing delay (a bare ``nak()`` would redeliver at once); a
permanent failure, or a transient one on the last allowed delivery, goes to
``vfu.dlq.<consumer>.<subject>`` and is ``term``-ed so the consumer moves on.
Handlers never ack.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from nats.aio.msg import Msg
from nats.errors import TimeoutError as NatsTimeoutError
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from vfu_common.db import Database, insert_ignore
from vfu_common.events.contracts import EventPayload, contract_for
from vfu_common.events.envelope import Envelope
from vfu_common.events.streams import DLQ_STREAM, StreamSpec, ensure_stream
from vfu_common.logging import bind_context
from vfu_common.messaging.tables import inbox
from vfu_common.metrics import EVENTS_CONSUMED
from vfu_common.utc import utcnow

_log = logging.getLogger(__name__)

Handler = Callable[[AsyncSession, Envelope, Any], Awaitable[None]]


def chain_handlers(*handler_maps: Mapping[str, Handler]) -> dict[str, Handler]:
    """One handler map from several, in order: where two maps handle the same event type,
    both run, one after the other, in the event's one transaction.

    A projection maintains its read model and a feature reacts to the same event (the
    bookings feature flagging bookings past an agreement's end after the agreement read
    model applied it); ``{**a, **b}`` would silently drop the first of the two.
    """
    chains: dict[str, list[Handler]] = {}
    for handlers in handler_maps:
        for event_type, handler in handlers.items():
            chains.setdefault(event_type, []).append(handler)
    return {
        event_type: chain[0] if len(chain) == 1 else _run_in_order(tuple(chain))
        for event_type, chain in chains.items()
    }


def _run_in_order(handlers: tuple[Handler, ...]) -> Handler:
    async def run(session: AsyncSession, envelope: Envelope, payload: Any) -> None:
        for handler in handlers:
            await handler(session, envelope, payload)

    return run


class PermanentError(Exception):
    """An event that can never be handled: dead-letter it at once."""


@dataclass(frozen=True)
class Subscription:
    """What one service consumes from one source stream, and how."""

    durable: str
    stream: StreamSpec
    handlers: Mapping[str, Handler]
    max_deliver: int = 5
    ack_wait_seconds: float = 30.0
    nak_base_delay_seconds: float = 1.0
    nak_max_delay_seconds: float = 60.0
    batch: int = 64
    extra: dict[str, Any] = field(default_factory=dict)

    def config(self) -> ConsumerConfig:
        """The durable consumer's configuration (explicit ack, bounded deliveries)."""
        return ConsumerConfig(
            name=self.durable,
            durable_name=self.durable,
            ack_policy=AckPolicy.EXPLICIT,
            deliver_policy=DeliverPolicy.ALL,
            max_deliver=self.max_deliver,
            ack_wait=self.ack_wait_seconds,
            filter_subjects=sorted(self.handlers),
            max_ack_pending=1000,
        )

    def nak_delay(self, delivered: int) -> float:
        """Exponential redelivery delay after the ``delivered``-th failed attempt."""
        return float(
            min(
                self.nak_max_delay_seconds, self.nak_base_delay_seconds * 2 ** max(0, delivered - 1)
            )
        )


def dlq_subject(durable: str, subject: str) -> str:
    """Where a dead event of ``durable`` goes."""
    return f"{DLQ_STREAM.subjects[0][:-1]}{durable}.{subject}"


class Consumer:
    """Runs one Subscription's fetch loop against a service database."""

    def __init__(self, db: Database, js: JetStreamContext, subscription: Subscription) -> None:
        self.db = db
        self.js = js
        self.sub = subscription

    async def provision(self) -> None:
        """Ensure the source stream, the DLQ stream and the durable consumer exist."""
        await ensure_stream(self.js, self.sub.stream)
        await ensure_stream(self.js, DLQ_STREAM)
        await self.js.add_consumer(self.sub.stream.name, self.sub.config())

    async def run(self) -> None:
        """Fetch and handle messages until cancelled; survives NATS outages."""
        while True:
            try:
                await self.provision()
                psub = await self.js.pull_subscribe_bind(
                    durable=self.sub.durable, stream=self.sub.stream.name
                )
                try:
                    await self._fetch_loop(psub)
                finally:
                    # Unsubscribe before the connection drains, or drain waits on us.
                    with contextlib.suppress(Exception):
                        await psub.unsubscribe()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                _log.warning("consumer %s: %s; restarting in 1s", self.sub.durable, exc)
                await asyncio.sleep(1.0)

    async def _fetch_loop(self, psub: JetStreamContext.PullSubscription) -> None:
        while True:
            try:
                msgs = await psub.fetch(self.sub.batch, timeout=1.0)
            except (TimeoutError, NatsTimeoutError):
                continue
            for msg in msgs:
                await self.process(msg)

    async def process(self, msg: Msg) -> None:
        """Handle one message and settle it with ack, nak(delay) or DLQ + term."""
        delivered = msg.metadata.num_delivered
        try:
            envelope, payload = self._decode(msg)
            bind_context(
                request_id=None,
                correlation_id=envelope.correlationid,
                traceparent=envelope.traceparent,
            )
            handled = await self._apply(envelope, payload)
        except PermanentError as exc:
            await self._dead_letter(msg, f"permanent: {exc}")
            return
        except Exception as exc:
            if delivered >= self.sub.max_deliver:
                await self._dead_letter(msg, f"after {delivered} deliveries: {exc!r}")
                return
            delay = self.sub.nak_delay(delivered)
            _log.warning(
                "consumer %s: %s failed (%r); retry in %.1fs",
                self.sub.durable,
                msg.subject,
                exc,
                delay,
            )
            EVENTS_CONSUMED.labels(self.sub.durable, "retried").inc()
            await msg.nak(delay=delay)
            return
        EVENTS_CONSUMED.labels(self.sub.durable, "handled" if handled else "duplicate").inc()
        await msg.ack()

    def _decode(self, msg: Msg) -> tuple[Envelope, EventPayload]:
        try:
            envelope = Envelope.from_bytes(msg.data)
            contract = contract_for(envelope.type)
            return envelope, contract.payload.model_validate(envelope.data)
        except (ValidationError, KeyError, ValueError) as exc:
            raise PermanentError(f"undecodable event on {msg.subject}: {exc}") from exc

    async def _apply(self, envelope: Envelope, payload: EventPayload) -> bool:
        handler = self.sub.handlers.get(envelope.type)
        if handler is None:
            raise PermanentError(f"no handler for {envelope.type}")
        async with self.db.write() as session:
            claimed = await insert_ignore(
                session,
                inbox,
                {
                    "consumer": self.sub.durable,
                    "event_id": envelope.id,
                    "subject": envelope.type,
                    "received_at": utcnow(),
                },
            )
            if not claimed:
                return False
            await handler(session, envelope, payload)
        return True

    async def _dead_letter(self, msg: Msg, reason: str) -> None:
        _log.error("consumer %s: dead-lettering %s: %s", self.sub.durable, msg.subject, reason)
        meta = msg.metadata
        await self.js.publish(
            dlq_subject(self.sub.durable, msg.subject),
            msg.data,
            headers={
                # One DLQ entry per original message, even if this publish is retried.
                "Nats-Msg-Id": f"dlq:{self.sub.durable}:{meta.sequence.stream}",
                "Vfu-Dlq-Reason": reason[:500],
                "Vfu-Dlq-Deliveries": str(meta.num_delivered),
                "Vfu-Original-Subject": msg.subject,
            },
        )
        EVENTS_CONSUMED.labels(self.sub.durable, "dead_lettered").inc()
        await msg.term()
