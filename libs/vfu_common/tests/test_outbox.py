"""The outbox row is committed with the change it describes, or not at all."""

from __future__ import annotations

import pytest
from messaging_testkit import THING, ThingHappenedV1, effects
from sqlalchemy import func, select
from vfu_common.db import Database
from vfu_common.messaging.outbox import emit
from vfu_common.messaging.tables import outbox
from vfu_common.uuid7 import new_id


class Boom(Exception):
    pass


async def _counts(db: Database) -> tuple[int, int]:
    async with db.read() as session:
        changes = await session.scalar(select(func.count()).select_from(effects))
        events = await session.scalar(select(func.count()).select_from(outbox))
    return int(changes or 0), int(events or 0)


async def _change_with_event(db: Database, n: int, *, fail: bool) -> None:
    async with db.write() as session:
        await session.execute(effects.insert().values(id=new_id(), event_id=new_id(), n=n))
        await emit(
            session,
            THING,
            ThingHappenedV1(n=n),
            source="/test",
            aggregate_id=new_id(),
            aggregate_version=1,
        )
        if fail:
            raise Boom


async def test_rolled_back_change_leaves_no_event(db: Database) -> None:
    with pytest.raises(Boom):
        await _change_with_event(db, 1, fail=True)
    assert await _counts(db) == (0, 0)


async def test_committed_change_has_its_event(db: Database) -> None:
    await _change_with_event(db, 1, fail=False)
    await _change_with_event(db, 2, fail=False)
    assert await _counts(db) == (2, 2)
    async with db.read() as session:
        row = (await session.execute(select(outbox).order_by(outbox.c.seq))).first()
    assert row is not None
    assert row.subject == THING.event_type
    assert row.published_at is None


async def test_commit_of_outbox_rows_wakes_listeners(db: Database) -> None:
    woken: list[int] = []
    db.on_commit(lambda: woken.append(1))
    async with db.write() as session:  # a commit without events must not wake anyone
        await session.execute(effects.insert().values(id=new_id(), event_id=new_id(), n=0))
    assert woken == []
    await _change_with_event(db, 1, fail=False)
    assert woken == [1]
