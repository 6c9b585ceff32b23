"""Database.read and Database.fetch_all on a real SQLite file and PostgreSQL.

fetch_all is the hot one-statement read (the portal search): on SQLite it runs on its own
read threads through the stdlib driver, on PostgreSQL on the read engine without a
session, and at most ``read_concurrency`` statements run at once (ADR 19).
"""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, Uuid, event, insert, select, text
from sqlalchemy import bindparam as sa_bindparam
from vfu_common.db import Database, default_read_concurrency

metadata = MetaData()
things = Table(
    "db_read_things",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("name", String(40), nullable=False),
    Column("size", Integer, nullable=False),
)


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = Database(database_url, read_concurrency=2)
    async with database.write_engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
    yield database
    await database.dispose()


async def add_thing(db: Database, name: str, size: int) -> uuid.UUID:
    thing_id = uuid.uuid4()
    async with db.write() as session:
        await session.execute(insert(things).values(id=thing_id, name=name, size=size))
    return thing_id


async def test_fetch_all_returns_typed_rows_and_sees_every_commit(db: Database) -> None:
    first = await add_thing(db, "first", 1)
    statement = select(things.c.id, things.c.name).where(things.c.size >= text(":least"))
    rows = await db.fetch_all(statement.order_by(things.c.size), {"least": 1})
    assert [(row.id, row.name) for row in rows] == [(first, "first")]
    assert isinstance(rows[0].id, uuid.UUID)  # the column's type processed the value

    # Autocommit: a later read sees a later commit (no snapshot is held open).
    second = await add_thing(db, "second", 2)
    rows = await db.fetch_all(statement.order_by(things.c.size), {"least": 1})
    assert [row.id for row in rows] == [first, second]


async def test_read_sessions_see_commits_and_leave_no_transaction_open(db: Database) -> None:
    first = await add_thing(db, "first", 1)
    async with db.read() as session:
        assert (await session.execute(select(things.c.id))).scalars().all() == [first]
    # A write right after many reads is not blocked by a read left open (SQLite would
    # answer "database is locked" after the busy timeout if one were).
    for _ in range(3):
        async with db.read() as session:
            await session.execute(select(things.c.id))
    await add_thing(db, "second", 2)


def _track_sqlite_concurrency(db: Database, seen: list[int]) -> None:
    """A SQL function ``slow()`` on every connection: sleeps 50 ms and records how many
    calls ran at the same moment."""
    running = 0
    lock = threading.Lock()

    def slow() -> int:
        nonlocal running
        with lock:
            running += 1
            seen.append(running)
        threading.Event().wait(0.05)
        with lock:
            running -= 1
        return 1

    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.create_function("slow", 0, slow)

    for engine in db.sync_engines():
        event.listen(engine, "connect", on_connect)


async def _watch_postgres_sleepers(db: Database, seen: list[int], stop: asyncio.Event) -> None:
    """Poll pg_stat_activity for our pg_sleep statements while they run (in autocommit:
    inside a transaction the view would stay the snapshot of its first read)."""
    async with db.read_engine.connect() as conn:
        while not stop.is_set():
            count = (
                await conn.execute(
                    text(
                        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                        " AND state = 'active' AND query LIKE 'SELECT pg_sleep(0.2)%'"
                    )
                )
            ).scalar_one()
            seen.append(int(count))
            await asyncio.sleep(0.01)


@pytest.mark.stress
async def test_at_most_read_concurrency_statements_run_at_once(db: Database) -> None:
    seen: list[int] = []
    stop = asyncio.Event()
    if db.is_sqlite:
        _track_sqlite_concurrency(db, seen)
        statement = text("SELECT slow()")
        watcher = None
    else:
        statement = text("SELECT pg_sleep(0.2)")
        watcher = asyncio.create_task(_watch_postgres_sleepers(db, seen, stop))
    await asyncio.gather(*(db.fetch_all(statement) for _ in range(6)))
    stop.set()
    if watcher is not None:
        await watcher
    assert max(seen) == 2, seen  # two at once, never more, with six asked for together


def test_the_default_concurrency_is_the_cpu_count_and_at_least_two() -> None:
    assert default_read_concurrency() >= 2


async def test_fetch_row_finds_one_row_by_key_and_sees_every_commit(db: Database) -> None:
    by_id = select(things).where(things.c.id == sa_bindparam("id"))
    missing = await db.fetch_row(by_id, {"id": uuid.uuid4()})
    assert missing is None
    first = await add_thing(db, "first", 1)
    row = await db.fetch_row(by_id, {"id": first})
    assert row is not None
    assert (row.id, row.name, row.size) == (first, "first", 1)
    async with db.write() as session:
        await session.execute(things.update().where(things.c.id == first).values(size=5))
    row = await db.fetch_row(by_id, {"id": first})
    assert row is not None
    assert row.size == 5, "autocommit: no snapshot is held between reads"


async def test_fetch_row_on_a_sqlite_file_runs_on_the_loop_thread(
    db: Database, database_url: str
) -> None:
    """The key lookup does not hop to a thread there (elsewhere it is fetch_all's path)."""
    if not database_url.startswith("sqlite"):
        pytest.skip("the inline path is SQLite's")
    threads: list[str] = []

    def seen(*_: Any) -> None:
        threads.append(threading.current_thread().name)

    for engine in db.sync_engines():
        event.listen(engine, "before_cursor_execute", seen)
    await db.fetch_row(
        select(things).where(things.c.id == sa_bindparam("id")), {"id": uuid.uuid4()}
    )
    assert threads == [threading.current_thread().name]
