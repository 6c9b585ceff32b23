"""The SQLite write connection, driven on the event loop's own thread.

aiosqlite runs every call on a thread of its own: a cursor, its execute, its fetch and
its close are four hand-overs, each a wake-up of the event loop through its self-pipe,
and under load every one queues for the GIL. A booking took about 66 of them; its
statements themselves take tens of microseconds each on cached pages (ADR 26). This
dialect (``sqlite+vfu_writer``) gives SQLAlchemy's asyncio engine the stdlib ``sqlite3``
connection to call directly, so a whole write transaction runs without leaving the
loop's thread.

What keeps that from stalling the loop:

* a service writes through one connection (``Database``: a pool of one, ADR 5), so no
  writer in the process waits for another's lock;
* the one wait SQLite can impose, a writer of *another* process holding the lock, happens
  at ``BEGIN IMMEDIATE``. ``begin_immediate`` tries it without waiting and only on
  ``SQLITE_BUSY`` hands the waiting (up to the busy timeout) to a thread;
* once the transaction holds the write lock, WAL readers never block it, and
  ``synchronous=NORMAL`` means a commit does not wait for the disk;
* automatic checkpoints are off on this connection (a checkpoint copies pages back into
  the database file and syncs it, milliseconds at a time): ``Database`` runs one on a
  read thread every ``CHECKPOINT_EVERY_COMMITS`` commits.
"""

from __future__ import annotations

import asyncio
import sqlite3
from typing import Any

from sqlalchemy import pool
from sqlalchemy.dialects import registry
from sqlalchemy.dialects.sqlite.pysqlite import SQLiteDialect_pysqlite
from sqlalchemy.engine import URL, make_url
from sqlalchemy.engine.interfaces import AdaptedConnection
from sqlalchemy.util.concurrency import await_

DRIVER = "vfu_writer"
#: Commits of the writer between two checkpoints. SQLite checkpoints after 1000 WAL pages
#: by default; a booking's commit writes a handful, so this is about as often.
CHECKPOINT_EVERY_COMMITS = 200


async def _nothing() -> None:
    return None


class InlineCursor(sqlite3.Cursor):
    """A ``sqlite3`` cursor as SQLAlchemy's asyncio layer expects one.

    ``AsyncConnection.execute`` refuses a statement that never awaited (it takes that for
    a synchronous driver given by mistake): each execute awaits a coroutine that is done
    at once, a switch between greenlets and back, without a turn of the event loop.
    """

    def execute(self, sql: str, parameters: Any = (), /) -> InlineCursor:
        await_(_nothing())
        return super().execute(sql, parameters)

    def executemany(self, sql: str, seq_of_parameters: Any, /) -> InlineCursor:
        await_(_nothing())
        return super().executemany(sql, seq_of_parameters)

    async def _async_soft_close(self) -> None:
        # An asyncio driver's cursor is closed here with its rows kept; a stdlib cursor
        # has nothing to give back to another thread, and fetches on demand.
        return None


class InlineConnection(AdaptedConnection):
    """A ``sqlite3`` connection as the asyncio engine's DBAPI connection, called inline."""

    __slots__ = ("_sqlite", "dbapi")

    def __init__(self, dbapi: Any, connection: sqlite3.Connection) -> None:
        self.dbapi = dbapi
        self._sqlite = connection
        # What ``driver_connection`` answers (declared for asyncio drivers' connections).
        self._connection = connection  # type: ignore[assignment]

    @property
    def isolation_level(self) -> str | None:
        return self._sqlite.isolation_level

    @isolation_level.setter
    def isolation_level(self, value: str | None) -> None:
        self._sqlite.isolation_level = value  # type: ignore[assignment]

    def cursor(self, server_side: bool = False) -> InlineCursor:
        return self._sqlite.cursor(InlineCursor)

    def execute(self, operation: Any, parameters: Any = ()) -> InlineCursor:
        cursor = self.cursor()
        return cursor.execute(operation, parameters)

    def create_function(self, *args: Any, **kwargs: Any) -> None:
        self._sqlite.create_function(*args, **kwargs)

    def commit(self) -> None:
        self._sqlite.commit()

    def rollback(self) -> None:
        self._sqlite.rollback()

    def close(self) -> None:
        self._sqlite.close()

    def begin_immediate(self, busy_timeout_ms: int) -> None:
        """``BEGIN IMMEDIATE`` on the loop's thread unless another process holds the lock.

        Called inside SQLAlchemy's greenlet (its ``begin`` event), where ``await_`` may
        wait for a coroutine: the waiting for the lock runs on a thread, the loop goes on.
        """
        try:
            self._sqlite.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as error:
            if getattr(error, "sqlite_errorcode", None) != sqlite3.SQLITE_BUSY:
                raise
            await_(asyncio.to_thread(self._begin_waiting, busy_timeout_ms))

    def _begin_waiting(self, busy_timeout_ms: int) -> None:
        self._sqlite.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        try:
            self._sqlite.execute("BEGIN IMMEDIATE")
        finally:
            self._sqlite.execute("PRAGMA busy_timeout=0")


class _InlineDBAPI:
    """The ``sqlite3`` module, with ``connect`` giving ``InlineConnection``s."""

    paramstyle = "qmark"

    def __getattr__(self, name: str) -> Any:
        return getattr(sqlite3, name)

    def connect(self, *args: Any, **kwargs: Any) -> InlineConnection:
        # The pool may close a connection from another thread (garbage collection).
        kwargs["check_same_thread"] = False
        return InlineConnection(self, sqlite3.connect(*args, **kwargs))


class InlineSqliteDialect(SQLiteDialect_pysqlite):
    """pysqlite's dialect, declared asyncio so ``create_async_engine`` accepts it."""

    driver = DRIVER
    is_async = True
    supports_statement_cache = True
    supports_server_side_cursors = False

    @classmethod
    def import_dbapi(cls) -> Any:
        return _InlineDBAPI()

    @classmethod
    def get_pool_class(cls, url: URL) -> type[pool.Pool]:
        return pool.AsyncAdaptedQueuePool


registry.register(f"sqlite.{DRIVER}", __name__, "InlineSqliteDialect")


def writer_url(url: str) -> URL:
    """``url`` (a SQLite file) with this module's driver."""
    return make_url(url).set(drivername=f"sqlite+{DRIVER}")
