"""Database access for SQLite (embedded default) and PostgreSQL (production).

SQLite gets WAL, a busy timeout, and ``BEGIN IMMEDIATE`` on every write transaction so a
check-then-update cannot interleave with another writer. Writes go through a single
connection (pool of one): measured on our machines, a pool of SQLite writers pushed p99
to ~1 s through lock contention, while one writer queues cheaply in-process. Readers are
pooled, in autocommit. PostgreSQL has a write pool and a read pool (autocommit) that keep
their connections. ``Database.fetch_all`` runs hot one-statement reads on a bounded number
of slots (ADR 19).
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import os
import time
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    DateTime,
    Engine,
    Executable,
    MetaData,
    Row,
    Table,
    create_engine,
    event,
    text,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect, make_url
from sqlalchemy.exc import InvalidatePoolError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import Session
from sqlalchemy.pool import ConnectionPoolEntry, StaticPool
from sqlalchemy.types import TypeDecorator

from vfu_common import sqlite_writer

SQLITE_BUSY_TIMEOUT_MS = 5000
_log = logging.getLogger(__name__)

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def one_of(column: str, values: tuple[str, ...]) -> str:
    """SQL text of a CHECK that ``column`` holds one of ``values`` (a closed vocabulary)."""
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def new_metadata() -> MetaData:
    """A MetaData with the project's constraint naming convention."""
    return MetaData(naming_convention=NAMING_CONVENTION)


class UtcDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC timestamps on both databases (SQLite stores them naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use vfu_common.utc.utcnow()")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def is_sqlite_url(url: str) -> bool:
    """True for SQLite URLs."""
    return url.startswith("sqlite")


#: A pooled PostgreSQL connection idle in the pool longer than this is pinged before use.
PING_AFTER_IDLE_SECONDS = 10.0
_RETURNED_AT = "vfu_returned_at"


def _ping_after_idle(engine: AsyncEngine, idle_seconds: float) -> None:
    """SQLAlchemy's pre-ping, only for connections that sat idle in the pool (ADR 19).

    ``pool_pre_ping`` costs a round trip on every checkout: every booking's transaction,
    every audit batch, every relay pass. A connection back in the pool within seconds was
    just used; one idle for longer may have been cut by a database restart or a firewall,
    and is pinged as before, the whole pool being replaced when the ping finds it dead. A
    restart while connections are busy fails only the statements in flight, as it would
    with pre-ping too (SQLAlchemy then invalidates the pool).
    """
    sync_engine = engine.sync_engine
    dialect = sync_engine.dialect

    def mark_returned(_dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
        record.info[_RETURNED_AT] = time.monotonic()

    def ping_if_idle(dbapi_connection: Any, record: ConnectionPoolEntry, _proxy: Any) -> None:
        returned_at = record.info.get(_RETURNED_AT)
        if returned_at is not None and time.monotonic() - returned_at < idle_seconds:
            return
        try:
            dialect.do_ping(dbapi_connection)
        except dialect.loaded_dbapi.Error as error:
            if dialect.is_disconnect(error, dbapi_connection, None):
                raise InvalidatePoolError() from error
            raise

    event.listen(sync_engine, "connect", mark_returned)
    event.listen(sync_engine, "checkin", mark_returned)
    event.listen(sync_engine, "checkout", ping_if_idle)


def default_read_concurrency() -> int:
    """The CPU count, at least 2: what ``Database.fetch_all`` runs at once by default.

    Search statements are CPU-bound on cached pages. More of them at once than there are
    cores only time-slices the same CPUs (and, on SQLite, the service's GIL), so every
    statement takes longer and the event loop serving the requests gets a smaller share:
    ``bench/search_latency.py`` at 8 clients on 2 cores gave a p95 of 61 ms with 10 at
    once and 42 ms with 2 on SQLite, 57 ms and 41 ms on PostgreSQL (ADR 19).
    """
    return max(2, os.cpu_count() or 2)


def _is_sqlite_file(url: str) -> bool:
    """True for a SQLite database in a file (not in memory, where engines do not share it)."""
    database = make_url(url).database
    return is_sqlite_url(url) and database not in (None, "", ":memory:")


def _sqlite_pragmas(
    busy_timeout_ms: int, *, autocheckpoint: bool = True
) -> Callable[[Any, ConnectionPoolEntry], None]:
    def on_connect(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
        # Let SQLAlchemy's "begin" event emit BEGIN itself, so it can be IMMEDIATE.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        # The timeout first, so waiting for a lock applies to the statements after it.
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        # A no-op on a migrated file, which is WAL already (vfu_common.migrations).
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        if not autocheckpoint:
            cursor.execute("PRAGMA wal_autocheckpoint=0")
        cursor.close()

    return on_connect


def _configure_sqlite(
    engine: AsyncEngine, begin_statement: str | None, busy_timeout_ms: int
) -> None:
    """Pragmas on every connection; ``begin_statement`` opens each transaction (None:
    none is opened, every statement runs on its own, as the read engine does)."""
    event.listen(engine.sync_engine, "connect", _sqlite_pragmas(busy_timeout_ms))
    if begin_statement is None:
        return

    def _begin(conn: Any) -> None:
        conn.exec_driver_sql(begin_statement)

    event.listen(engine.sync_engine, "begin", _begin)


def _configure_sqlite_writer(engine: AsyncEngine, busy_timeout_ms: int) -> None:
    """The write connection on a SQLite file, driven on the loop's thread (sqlite_writer):
    no busy timeout on the connection, since the one wait for another process's lock is
    at ``BEGIN IMMEDIATE``, where ``begin_immediate`` waits on a thread."""
    event.listen(engine.sync_engine, "connect", _sqlite_pragmas(0, autocheckpoint=False))

    def _begin(conn: Any) -> None:
        conn.connection.dbapi_connection.begin_immediate(busy_timeout_ms)

    event.listen(engine.sync_engine, "begin", _begin)


class Database:
    """Engines and sessions of one service database.

    Use ``async with db.write() as session`` for a unit of work that changes data (it
    commits on success and rolls back on error) and ``async with db.read()`` otherwise.

    Reads run in autocommit: every statement sees the latest committed data on its own,
    with no BEGIN and COMMIT around it. On PostgreSQL that is what READ COMMITTED gives
    each statement of a transaction anyway; on SQLite it only drops the snapshot shared
    by the statements of one read, which no read here relies on. A read that needs one
    consistent view of several statements must use ``write()``.
    """

    def __init__(
        self,
        url: str,
        *,
        pool_size: int = 10,
        busy_timeout_ms: int = SQLITE_BUSY_TIMEOUT_MS,
        read_concurrency: int | None = None,
        ping_after_idle_seconds: float = PING_AFTER_IDLE_SECONDS,
    ) -> None:
        self.url = url
        # How many fetch_all statements run at once (the rest wait their turn, in order).
        self.read_concurrency = read_concurrency or default_read_concurrency()
        self._read_slots = asyncio.Semaphore(self.read_concurrency)
        self.is_sqlite = is_sqlite_url(url)
        self._threaded_reads: _ThreadedSqliteReads | None = None
        self._commit_listeners: list[Callable[[], None]] = []
        if self.is_sqlite:
            self.read_engine = create_async_engine(
                url, pool_size=pool_size, max_overflow=0, skip_autocommit_rollback=True
            )
            _configure_sqlite(self.read_engine, None, busy_timeout_ms)
            if _is_sqlite_file(url):
                # The writer on the loop's thread, its checkpoints on the read threads.
                self.write_engine = create_async_engine(
                    sqlite_writer.writer_url(url), pool_size=1, max_overflow=0, pool_timeout=60
                )
                _configure_sqlite_writer(self.write_engine, busy_timeout_ms)
                self._threaded_reads = _ThreadedSqliteReads(
                    url, self.read_concurrency, busy_timeout_ms
                )
                event.listen(
                    self.write_engine.sync_engine, "commit", self._threaded_reads.after_commit
                )
            else:  # in memory (no file the read threads could open): aiosqlite
                self.write_engine = create_async_engine(
                    url, pool_size=1, max_overflow=0, pool_timeout=60
                )
                _configure_sqlite(self.write_engine, "BEGIN IMMEDIATE", busy_timeout_ms)
        else:
            # Every connection the pool may open is kept (no overflow): an overflow
            # connection is closed when it comes back while the pool is full, so a load
            # beyond pool_size connected and disconnected all the time, each new connection
            # costing its set-up queries and an empty prepared-statement cache (ADR 19).
            # Requests beyond the cap wait for a connection instead.
            self.write_engine = create_async_engine(url, pool_size=2 * pool_size, max_overflow=0)
            # Its own pool, half the size: reads are single short statements, and the
            # service's connections stay within 30 (PostgreSQL's default max_connections
            # is 100).
            self.read_engine = create_async_engine(
                url,
                pool_size=max(2, pool_size),
                max_overflow=0,
                isolation_level="AUTOCOMMIT",
                skip_autocommit_rollback=True,
            )
            for engine in (self.write_engine, self.read_engine):
                _ping_after_idle(engine, ping_after_idle_seconds)

        # A Session subclass per database so the commit hook wakes only this service's relay.
        session_class = type("ServiceSession", (Session,), {})
        event.listen(session_class, "after_commit", self._after_commit)
        self._writer = async_sessionmaker(
            self.write_engine, expire_on_commit=False, sync_session_class=session_class
        )
        self._reader = async_sessionmaker(self.read_engine, expire_on_commit=False)

    def on_commit(self, listener: Callable[[], None]) -> None:
        """Call ``listener`` after every commit that wrote outbox rows."""
        self._commit_listeners.append(listener)

    def _after_commit(self, session: Session) -> None:
        if session.info.pop("outbox_dirty", False):
            for listener in self._commit_listeners:
                listener()

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncSession]:
        """A write transaction: committed on normal exit, rolled back on error."""
        async with self._writer() as session, session.begin():
            yield session

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        """A read-only session.

        No transaction block: the engine is in autocommit, so a COMMIT at the end would
        change nothing, and on SQLite it would cost one more hop to aiosqlite's thread.
        The ROLLBACK on close is skipped for the same reason (skip_autocommit_rollback).
        """
        async with self._reader() as session:
            yield session

    async def fetch_all(
        self, statement: Executable, values: Mapping[str, Any] | None = None
    ) -> Sequence[Row[Any]]:
        """Run one read statement in autocommit and return all its rows.

        For hot read paths that are one statement (the portal search). At most
        ``read_concurrency`` run at once; the others wait in order. On a SQLite file the
        whole of it (checkout, execute, fetch, result processing) runs on one of that
        many read threads in a single hop, where aiosqlite hops to its thread for the
        cursor, the execute, the fetch and the close apart (ADR 19). On PostgreSQL it runs
        on a pooled connection of the read engine, without an ORM session.
        """
        if self._threaded_reads is not None:
            return await self._threaded_reads.fetch_all(statement, values)
        async with self._read_slots, self.read_engine.connect() as connection:
            result = await connection.execute(statement, values)
            return result.all()

    async def fetch_row(
        self, statement: Executable, values: Mapping[str, Any] | None = None
    ) -> Row[Any] | None:
        """Run one statement that reads at most one row by a key; that row or None.

        For primary-key and unique-key reads. On a SQLite file it runs on the event
        loop's own thread: a B-tree lookup on cached pages takes tens of microseconds,
        less than handing it to a read thread and waking the loop again, and under
        concurrent load those hand-overs queue for the GIL (ADR 23). WAL readers never
        wait for a writer, so it cannot stall the loop on a lock. Anything that scans
        belongs in ``fetch_all``. Elsewhere it is ``fetch_all``'s first row.
        """
        if self._threaded_reads is not None:
            return self._threaded_reads.fetch_row_inline(statement, values)
        rows = await self.fetch_all(statement, values)
        return rows[0] if rows else None

    def sync_engines(self) -> list[Engine]:
        """Every engine's synchronous core, for event listeners (tests, instrumentation)."""
        engines = [self.write_engine.sync_engine, self.read_engine.sync_engine]
        if self._threaded_reads is not None:
            engines += [self._threaded_reads.engine, self._threaded_reads.inline_engine]
        return engines

    async def ping(self) -> None:
        """Raise unless the database answers."""
        async with self.read_engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def dispose(self) -> None:
        """Close every pooled connection."""
        await self.write_engine.dispose()
        if self.read_engine is not self.write_engine:
            await self.read_engine.dispose()
        if self._threaded_reads is not None:
            self._threaded_reads.close()


class _ThreadedSqliteReads:
    """Statements on a SQLite file run whole on a pool of threads (Database.fetch_all).

    The stdlib driver through a synchronous engine, with the pragmas and autocommit of
    the async read engine; one pooled connection per thread at most.
    """

    def __init__(self, url: str, threads: int, busy_timeout_ms: int) -> None:
        self.engine: Engine = create_engine(
            make_url(url).set(drivername="sqlite"),
            pool_size=threads,
            max_overflow=0,
            skip_autocommit_rollback=True,
            connect_args={"check_same_thread": False},
        )
        event.listen(self.engine, "connect", _sqlite_pragmas(busy_timeout_ms))
        self._executor = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="sqlite-read")
        self._commits = 0
        self._checkpointing = False
        # One connection for key lookups on the event loop's thread (fetch_row): only
        # that thread uses it, and a synchronous call never interleaves with another.
        self.inline_engine: Engine = create_engine(
            make_url(url).set(drivername="sqlite"),
            poolclass=StaticPool,
            skip_autocommit_rollback=True,
            connect_args={"check_same_thread": False},
        )
        event.listen(self.inline_engine, "connect", _sqlite_pragmas(busy_timeout_ms))

    def after_commit(self, _conn: Any) -> None:
        """Count the writer's commits; every ``CHECKPOINT_EVERY_COMMITS`` of them, start a
        checkpoint on a read thread (the writer's own are off: sqlite_writer).

        RESTART, not PASSIVE: a passive checkpoint racing the writer never finds the WAL
        wholly copied, so the WAL is never started over and grows without end. RESTART
        takes the write lock for its duration (the writer's ``BEGIN IMMEDIATE`` then waits
        on a thread, not on the loop) and leaves the WAL to be reused from its start.
        """
        self._commits += 1
        if self._commits < sqlite_writer.CHECKPOINT_EVERY_COMMITS or self._checkpointing:
            return
        self._commits = 0
        self._checkpointing = True
        self._executor.submit(self._checkpoint)

    def _checkpoint(self) -> None:
        try:
            with self.engine.connect() as connection:
                connection.exec_driver_sql("PRAGMA wal_checkpoint(RESTART)")
        except Exception:
            # The next one copies what this one left; a checkpoint is never a request's.
            _log.exception("SQLite checkpoint failed")
        finally:
            self._checkpointing = False

    def fetch_row_inline(
        self, statement: Executable, values: Mapping[str, Any] | None
    ) -> Row[Any] | None:
        with self.inline_engine.connect() as connection:
            return connection.execute(statement, values).first()

    def _run(self, statement: Executable, values: Mapping[str, Any] | None) -> Sequence[Row[Any]]:
        with self.engine.connect() as connection:
            return connection.execute(statement, values).all()

    async def fetch_all(
        self, statement: Executable, values: Mapping[str, Any] | None
    ) -> Sequence[Row[Any]]:
        loop = asyncio.get_running_loop()
        # In the caller's context, as asyncio.to_thread does: what the statement logs (or
        # an engine event sees) carries the request's ids.
        context = contextvars.copy_context()
        return await loop.run_in_executor(self._executor, context.run, self._run, statement, values)

    def close(self) -> None:
        self._executor.shutdown(wait=True)
        self.engine.dispose()
        self.inline_engine.dispose()


def _insert_of(dialect_name: str, table: Table) -> Any:
    return (sqlite.insert if dialect_name == "sqlite" else postgresql.insert)(table)


def _dialect_insert(session: AsyncSession, table: Table) -> Any:
    return _insert_of(session.get_bind().dialect.name, table)


@lru_cache(maxsize=64)
def _insert_ignore_statement(dialect_name: str, table: Table) -> Any:
    # Built once per table: the values are bound per call, so a hot path (the idempotency
    # claim of every booking) does not build and key a new statement each time.
    return _insert_of(dialect_name, table).on_conflict_do_nothing()


async def insert_ignore(session: AsyncSession, table: Table, values: dict[str, Any]) -> bool:
    """``INSERT ... ON CONFLICT DO NOTHING``; True when the row was inserted."""
    stmt = _insert_ignore_statement(session.get_bind().dialect.name, table)
    result = await session.execute(stmt, values)
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


async def upsert_if_newer(
    session: AsyncSession,
    table: Table,
    values: dict[str, Any],
    *,
    key: str,
    version_column: str = "aggregate_version",
) -> bool:
    """Insert a projection row, or update it only when ``values`` carry a newer version.

    This is the projection version guard: an older or duplicated event changes nothing,
    whatever order events arrive in. Returns True when a row was written.
    """
    insert = _dialect_insert(session, table).values(**values)
    updates = {name: insert.excluded[name] for name in values if name != key}
    stmt = insert.on_conflict_do_update(
        index_elements=[key],
        set_=updates,
        where=table.c[version_column] < insert.excluded[version_column],
    )
    result = await session.execute(stmt)
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]
