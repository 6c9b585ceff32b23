"""Per-test databases: a SQLite file, or a fresh PostgreSQL database on the test server."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import asyncpg
from vfu_common.migrations import upgrade
from vfu_common.uuid7 import new_id


def _plain(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://")


def _with_database(url: str, name: str) -> str:
    base, _, _ = url.rpartition("/")
    return f"{base}/{name}"


async def create_postgres_database(server_url: str) -> str:
    """Create an empty database on the server of ``server_url``; return its async URL."""
    name = f"vfu_test_{new_id().hex[:16]}"
    conn = await asyncpg.connect(_plain(server_url))
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return _with_database(server_url.replace("postgresql://", "postgresql+asyncpg://"), name)


async def drop_postgres_database(server_url: str, url: str) -> None:
    """Drop a database made by ``create_postgres_database``, closing its connections."""
    name = url.rpartition("/")[2]
    conn = await asyncpg.connect(_plain(server_url))
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


def sqlite_url(directory: Path, name: str = "test") -> str:
    """A SQLite URL for a file in ``directory``."""
    return f"sqlite+aiosqlite:///{directory / (name + '.db')}"


async def migrate(alembic_ini: Path, url: str) -> None:
    """Run a service's migrations to head from async code (Alembic runs its own loop)."""
    await asyncio.to_thread(upgrade, alembic_ini, url)


async def recreate_from_template(server_url: str, url: str, template_url: str) -> None:
    """Replace the database of ``url`` by a copy of ``template_url``'s (same server).

    PostgreSQL copies a template database file by file, far faster than running every
    migration again; nothing may be connected to either database meanwhile.
    """
    name = url.rpartition("/")[2]
    template = template_url.rpartition("/")[2]
    conn = await asyncpg.connect(_plain(server_url))
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    finally:
        await conn.close()


def sqlite_path(url: str) -> Path:
    """The file of a ``sqlite_url``."""
    return Path(url.split(":///", 1)[1])


@contextmanager
def database_for(backend: str, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database URL for a synchronous test (e.g. a Hypothesis state machine).

    ``backend`` is "sqlite" (a file in ``tmp_path``) or "postgres" (a new database on
    ``VFU_TEST_DATABASE_URL``, dropped afterwards; the test is skipped without it).
    """
    server = os.environ.get("VFU_TEST_DATABASE_URL")
    if backend == "sqlite":
        yield sqlite_url(tmp_path)
        return
    if not server:
        import pytest  # only tests call this; the benchmarks import the module too

        pytest.skip("VFU_TEST_DATABASE_URL not set")
    url = asyncio.run(create_postgres_database(server))
    try:
        yield url
    finally:
        asyncio.run(drop_postgres_database(server, url))
