"""PostgreSQL connections that died while idle in the pool are replaced before use.

The pool pings a connection only when it sat idle longer than ``ping_after_idle_seconds``
(ADR 19). These tests cut every pooled connection from the server side, as a database
restart would, and then use the Database again.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from vfu_common.db import Database

# Concurrency and fault tests: `make stress` runs them 20 times in a row.
pytestmark = pytest.mark.stress


@pytest.fixture
def postgres_url(database_url: str) -> str:
    if database_url.startswith("sqlite"):
        pytest.skip("a PostgreSQL pool's behaviour")
    return database_url


async def _cut_every_connection(url: str) -> int:
    """Terminate every other backend on the database, as a server restart would."""
    conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        cut = await conn.fetchval(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        return int(cut)
    finally:
        await conn.close()


async def _use(db: Database) -> None:
    async with db.write() as session:
        assert (await session.execute(text("SELECT 1"))).scalar_one() == 1
    async with db.read() as session:
        assert (await session.execute(text("SELECT 2"))).scalar_one() == 2


@pytest.fixture
async def pinged_at_once(postgres_url: str) -> AsyncIterator[Database]:
    database = Database(postgres_url, ping_after_idle_seconds=0)
    yield database
    await database.dispose()


@pytest.fixture
async def never_pinged(postgres_url: str) -> AsyncIterator[Database]:
    database = Database(postgres_url, ping_after_idle_seconds=3600)
    yield database
    await database.dispose()


async def test_connections_cut_while_idle_are_replaced_before_use(
    pinged_at_once: Database, postgres_url: str
) -> None:
    await _use(pinged_at_once)
    assert await _cut_every_connection(postgres_url) >= 2  # the write and the read one
    await _use(pinged_at_once)  # no error: the ping found them dead and reconnected


async def test_without_the_ping_a_cut_connection_fails_its_next_statement_once(
    never_pinged: Database, postgres_url: str
) -> None:
    """What the ping saves (and that the test above can fail): a connection used again
    within the idle window meets the cut itself, and the pool recovers after it."""
    await _use(never_pinged)
    await _cut_every_connection(postgres_url)
    for session_of in (never_pinged.write, never_pinged.read):  # one engine each
        with pytest.raises(DBAPIError) as raised:
            async with session_of() as session:
                await session.execute(text("SELECT 1"))
        assert raised.value.connection_invalidated
    await _use(never_pinged)  # each disconnect invalidated its pool: fresh connections
