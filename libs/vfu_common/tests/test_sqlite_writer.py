"""The SQLite write connection on the event loop's thread (vfu_common.sqlite_writer).

On a real file: statements run on the loop's own thread; a lock held by another
connection is waited for on a thread while the loop goes on; a refusal rolls back; and
the checkpoints that replace the connection's automatic ones keep the WAL from growing
without end.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, func, insert, select, text
from vfu_common import sqlite_writer
from vfu_common.db import Database

metadata = MetaData()
notes = Table(
    "writer_notes",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("body", String(600), nullable=False),
)


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'writer.db'}")
    async with database.write_engine.begin() as conn:
        await conn.exec_driver_sql("PRAGMA journal_mode=WAL")
        await conn.run_sync(metadata.create_all)
    yield database
    await database.dispose()


def _file(db: Database) -> str:
    database = db.write_engine.url.database
    assert database is not None
    return database


async def test_the_writer_uses_the_inline_driver_and_runs_on_the_loops_thread(
    db: Database,
) -> None:
    assert db.write_engine.dialect.driver == sqlite_writer.DRIVER
    threads: list[int] = []
    async with db.write() as session:
        raw = (await session.connection()).sync_connection
        assert raw is not None
        driver = raw.connection.driver_connection
        driver.create_function("whose_thread", 0, lambda: threads.append(threading.get_ident()))
        await session.execute(text("SELECT whose_thread()"))
        await session.execute(insert(notes).values(body="inline"))
    assert threads == [threading.get_ident()]
    async with db.read() as session:
        assert (await session.execute(select(func.count()).select_from(notes))).scalar() == 1


async def _write_then_refuse(db: Database) -> None:
    async with db.write() as session:
        await session.execute(insert(notes).values(body="rolled back"))
        raise RuntimeError("refused")


async def test_a_failed_unit_of_work_leaves_nothing_behind(db: Database) -> None:
    with pytest.raises(RuntimeError):
        await _write_then_refuse(db)
    async with db.write() as session:
        await session.execute(insert(notes).values(body="kept"))
    async with db.read() as session:
        bodies = (await session.execute(select(notes.c.body))).scalars().all()
    assert bodies == ["kept"]


async def test_a_lock_held_elsewhere_is_waited_for_off_the_loop(db: Database) -> None:
    other = sqlite3.connect(_file(db), isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")  # another process's writer, as SQLite sees it
    ticks = 0

    async def tick() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0.01)

    async def write() -> None:
        async with db.write() as session:
            await session.execute(insert(notes).values(body="after the other writer"))

    ticker = asyncio.create_task(tick())
    writing = asyncio.create_task(write())
    try:
        # The writer waits while the loop keeps turning: the ticker advances.
        while ticks < 10:
            await asyncio.sleep(0.01)
        assert not writing.done()
        other.execute("INSERT INTO writer_notes (body) VALUES ('the other writer')")
        other.execute("COMMIT")
        await asyncio.wait_for(writing, timeout=10)
    finally:
        ticker.cancel()
        other.close()
    async with db.read() as session:
        bodies = (await session.execute(select(notes.c.body).order_by(notes.c.id))).scalars()
    assert list(bodies) == ["the other writer", "after the other writer"]


async def test_a_lock_held_past_the_busy_timeout_is_refused_as_busy(tmp_path: Path) -> None:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'busy.db'}", busy_timeout_ms=100)
    other = sqlite3.connect(tmp_path / "busy.db", isolation_level=None)
    try:
        async with db.write() as session:
            await session.execute(text("PRAGMA journal_mode=WAL"))
        other.execute("BEGIN IMMEDIATE")
        with pytest.raises(Exception, match="database is locked"):
            async with db.write() as session:
                await session.execute(text("SELECT 1"))
        other.execute("COMMIT")
        # The connection is usable again once the lock is free.
        async with db.write() as session:
            assert (await session.execute(text("SELECT 1"))).scalar() == 1
    finally:
        other.close()
        await db.dispose()


async def _checkpoint_done(db: Database) -> None:
    reads = db._threaded_reads
    assert reads is not None
    async with asyncio.timeout(10):
        while reads._checkpointing:
            await asyncio.sleep(0.01)


async def test_checkpoints_start_the_wal_over(db: Database) -> None:
    wal = Path(_file(db) + "-wal")
    every = sqlite_writer.CHECKPOINT_EVERY_COMMITS
    body = "x" * 500
    for _ in range(5):
        for _ in range(every):
            async with db.write() as session:
                await session.execute(insert(notes).values(body=body))
        await _checkpoint_done(db)
    # Without checkpoints the WAL holds a page for every commit at least (5 * every
    # pages); started over after each checkpoint, it holds about one round's.
    assert wal.stat().st_size < 3 * every * 4096
    async with db.read() as session:
        count = (await session.execute(select(func.count()).select_from(notes))).scalar()
    assert count == 5 * every
