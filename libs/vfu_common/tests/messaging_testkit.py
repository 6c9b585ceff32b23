"""A tiny test producer/consumer built from vfu_common's real mechanics (tests only)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import Column, Integer, String, Table, Uuid, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from vfu_common.db import Database, new_metadata
from vfu_common.events.contracts import EventPayload, register
from vfu_common.events.envelope import Envelope
from vfu_common.uuid7 import new_id

TEST_TYPE = "vfu.testsvc.thing.happened.v1"


class ThingHappenedV1(EventPayload):
    """Test payload."""

    n: int


THING = register(TEST_TYPE, ThingHappenedV1, "thing")

test_metadata = new_metadata()
effects = Table(
    "effects",
    test_metadata,
    Column("id", Uuid, primary_key=True),
    Column("event_id", Uuid, nullable=False),
    Column("n", Integer, nullable=False),
    Column("note", String(50), nullable=True),
)


async def record_effect(session: AsyncSession, envelope: Envelope, payload: Any) -> None:
    """The side effect every test handler has: one row per handled event."""
    await session.execute(effects.insert().values(id=new_id(), event_id=envelope.id, n=payload.n))


async def count_effects(db: Database) -> tuple[int, int]:
    """(rows, distinct event ids) in the effects table."""
    # One statement, so both counts come from the same snapshot on PostgreSQL too.
    async with db.read() as session:
        rows, distinct = (
            await session.execute(
                select(func.count(), func.count(effects.c.event_id.distinct())).select_from(effects)
            )
        ).one()
    return int(rows or 0), int(distinct or 0)


async def wait_until(
    check: Callable[[], Awaitable[bool]], *, timeout: float = 30.0, interval: float = 0.05
) -> None:
    """Poll ``check`` until it is true; fail the test after ``timeout`` seconds."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not await check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        await asyncio.sleep(interval)
