"""Outbox relay and inbox consumer against a real nats-server with JetStream."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

import nats
import pytest
from messaging_testkit import (
    THING,
    ThingHappenedV1,
    count_effects,
    record_effect,
    wait_until,
)
from nats.js.errors import NotFoundError
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from vfu_common.db import Database
from vfu_common.events.envelope import Envelope
from vfu_common.events.streams import DLQ_STREAM, ensure_stream, service_stream
from vfu_common.messaging.connection import NatsConnection
from vfu_common.messaging.consumer import Consumer, Subscription, dlq_subject
from vfu_common.messaging.outbox import build_envelope, emit
from vfu_common.messaging.relay import OutboxRelay
from vfu_common.messaging.tables import inbox, outbox
from vfu_common.uuid7 import new_id
from vfu_devrun.processes import NatsServer

# Concurrency and fault tests: `make stress` runs them 20 times in a row.
pytestmark = pytest.mark.stress

STREAM = service_stream("testsvc")


def subscription(handler: Any = record_effect, **overrides: Any) -> Subscription:
    base = Subscription(
        durable="testsvc-self",
        stream=STREAM,
        handlers={THING.event_type: handler},
        max_deliver=3,
        ack_wait_seconds=2.0,
        nak_base_delay_seconds=0.3,
        batch=64,
    )
    return replace(base, **overrides)


@contextlib.asynccontextmanager
async def running(*coroutines: Any) -> AsyncIterator[None]:
    tasks = [asyncio.create_task(c) for c in coroutines]
    try:
        yield
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task


@pytest.fixture
async def bus(nats_server: NatsServer) -> AsyncIterator[NatsConnection]:
    connection = NatsConnection(nats_server.url, name="test")
    await asyncio.wait_for(connection.connect(), 10)
    await ensure_stream(connection.jetstream(), STREAM)
    yield connection
    await connection.close()


async def produce(db: Database, first: int, count: int, per_transaction: int = 10) -> None:
    for start in range(first, first + count, per_transaction):
        async with db.write() as session:
            for n in range(start, min(start + per_transaction, first + count)):
                await emit(
                    session,
                    THING,
                    ThingHappenedV1(n=n),
                    source="/test",
                    aggregate_id=new_id(),
                    aggregate_version=1,
                )


async def test_events_flow_from_outbox_to_consumer(db: Database, bus: NatsConnection) -> None:
    js = bus.jetstream()
    relay = OutboxRelay(db, js, service="testsvc", poll_seconds=0.2)
    consumer = Consumer(db, js, subscription())
    async with running(relay.run(), consumer.run()):
        await produce(db, 0, 50)
        await wait_until(lambda: _effects_are(db, 50))
    async with db.read() as session:
        unpublished = await session.scalar(
            select(func.count()).select_from(outbox).where(outbox.c.published_at.is_(None))
        )
    assert unpublished == 0


async def _effects_are(db: Database, expected: int) -> bool:
    rows, distinct = await count_effects(db)
    assert rows == distinct, f"an event had {rows - distinct} extra effects"
    return rows == expected


async def test_relay_is_woken_by_commit_not_only_by_polling(
    db: Database, bus: NatsConnection
) -> None:
    js = bus.jetstream()
    relay = OutboxRelay(db, js, service="testsvc", poll_seconds=60)
    async with running(relay.run()):
        await asyncio.sleep(0.5)  # the relay has done its first round and now sleeps 60 s
        await produce(db, 0, 1)
        await wait_until(lambda: _published_count_is(db, 1), timeout=5)


async def _published_count_is(db: Database, expected: int) -> bool:
    async with db.read() as session:
        published = await session.scalar(
            select(func.count()).select_from(outbox).where(outbox.c.published_at.is_not(None))
        )
    return published == expected


async def test_sigkill_of_nats_loses_and_duplicates_nothing(
    db: Database, bus: NatsConnection, nats_server: NatsServer
) -> None:
    """1,000 events produced while the NATS server is SIGKILLed and restarted."""
    js = bus.jetstream()
    relay = OutboxRelay(
        db, js, service="testsvc", poll_seconds=0.2, publish_timeout=1.0, max_backoff_seconds=0.5
    )
    consumer = Consumer(db, js, subscription(max_deliver=20))
    async with running(relay.run(), consumer.run()):
        await produce(db, 0, 300)
        nats_server.kill()
        await produce(db, 300, 400)  # written while the bus is down
        await asyncio.sleep(1.0)
        nats_server.start()
        await produce(db, 700, 300)
        await wait_until(lambda: _effects_are(db, 1000), timeout=90, interval=0.2)
        await asyncio.sleep(3)  # time for any redelivery (ack_wait 2 s) to show a duplicate
        assert await count_effects(db) == (1000, 1000)
    async with db.read() as session:
        ns = (await session.execute(select(func.count()).select_from(inbox))).scalar()
    assert ns == 1000


async def test_same_event_delivered_twice_has_one_effect(db: Database, bus: NatsConnection) -> None:
    js = bus.jetstream()
    envelope = build_envelope(
        THING, ThingHappenedV1(n=7), source="/test", aggregate_id=new_id(), aggregate_version=1
    )
    # Two stream messages (distinct Nats-Msg-Id) carrying the same event, as after a
    # republish outside the duplicate window.
    for msg_id in ("a", "b"):
        await js.publish(THING.event_type, envelope.to_bytes(), headers={"Nats-Msg-Id": msg_id})
    consumer = Consumer(db, js, subscription())
    async with running(consumer.run()):
        await wait_until(lambda: _consumer_caught_up(js, 2))
    assert await count_effects(db) == (1, 1)


async def _consumer_caught_up(js: Any, delivered: int) -> bool:
    try:
        info = await js.consumer_info(STREAM.name, "testsvc-self")
    except NotFoundError:  # not provisioned yet
        return False
    return bool(
        info.delivered.stream_seq >= delivered
        and info.num_ack_pending == 0
        and info.num_pending == 0
    )


async def test_transient_failure_is_retried_after_a_delay(
    db: Database, bus: NatsConnection
) -> None:
    attempts: list[float] = []

    async def flaky(session: AsyncSession, envelope: Envelope, payload: Any) -> None:
        attempts.append(time.monotonic())
        if len(attempts) == 1:
            raise ConnectionError("transient")
        await record_effect(session, envelope, payload)

    js = bus.jetstream()
    consumer = Consumer(db, js, subscription(flaky, nak_base_delay_seconds=1.0))
    async with running(consumer.run()):
        await produce_direct(js, 1)
        await wait_until(lambda: _effects_are(db, 1))
    assert len(attempts) == 2
    assert attempts[1] - attempts[0] >= 0.9, "a bare nak would have redelivered at once"


async def produce_direct(js: Any, n: int) -> Envelope:
    envelope = build_envelope(
        THING, ThingHappenedV1(n=n), source="/test", aggregate_id=new_id(), aggregate_version=1
    )
    await js.publish(
        THING.event_type, envelope.to_bytes(), headers={"Nats-Msg-Id": str(envelope.id)}
    )
    return envelope


async def test_poison_event_goes_to_dlq_after_last_delivery_and_consumer_goes_on(
    db: Database, bus: NatsConnection, nats_server: NatsServer
) -> None:
    calls: dict[int, int] = {}

    async def poisoned(session: AsyncSession, envelope: Envelope, payload: Any) -> None:
        calls[payload.n] = calls.get(payload.n, 0) + 1
        if payload.n == 13:
            raise RuntimeError("cannot handle 13")
        await record_effect(session, envelope, payload)

    js = bus.jetstream()
    await ensure_stream(js, DLQ_STREAM)
    watcher = await nats.connect(nats_server.url)
    dead = await watcher.subscribe(dlq_subject("testsvc-self", THING.event_type))
    consumer = Consumer(db, js, subscription(poisoned, max_deliver=3, nak_base_delay_seconds=0.2))
    async with running(consumer.run()):
        poison = await produce_direct(js, 13)
        await produce_direct(js, 14)
        message = await dead.next_msg(timeout=20)
        await wait_until(lambda: _effects_are(db, 1))
    await watcher.close()
    assert Envelope.from_bytes(message.data).id == poison.id
    assert message.headers is not None
    assert message.headers["Vfu-Dlq-Deliveries"] == "3"
    assert calls == {13: 3, 14: 1}
    assert await count_effects(db) == (1, 1)


async def test_undecodable_event_is_dead_lettered_at_once(
    db: Database, bus: NatsConnection, nats_server: NatsServer
) -> None:
    js = bus.jetstream()
    watcher = await nats.connect(nats_server.url)
    dead = await watcher.subscribe(dlq_subject("testsvc-self", THING.event_type))
    consumer = Consumer(db, js, subscription())
    async with running(consumer.run()):
        await js.publish(THING.event_type, b"{not json", headers={"Nats-Msg-Id": "garbage"})
        await produce_direct(js, 1)
        message = await dead.next_msg(timeout=10)
        await wait_until(lambda: _effects_are(db, 1))
    await watcher.close()
    assert message.data == b"{not json"
    assert message.headers is not None
    assert message.headers["Vfu-Dlq-Deliveries"] == "1"
