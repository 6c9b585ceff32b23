"""The whole system as ``make run`` starts it, on free ports, on SQLite or PostgreSQL."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from vfu_devrun.launcher import DATABASES, SERVICES, LaunchConfig, Launcher
from vfu_devrun.processes import free_port
from vfu_testing.databases import create_postgres_database, drop_postgres_database

PG_SERVER = os.environ.get("VFU_TEST_DATABASE_URL")


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def database_urls(request: pytest.FixtureRequest) -> AsyncIterator[dict[str, str]]:
    """No URLs (SQLite files in the data directory), or one fresh PostgreSQL database each
    for the services and the gateway's store."""
    if request.param == "sqlite":
        yield {}
        return
    if not PG_SERVER:
        pytest.skip("VFU_TEST_DATABASE_URL not set")
    urls = {name: await create_postgres_database(PG_SERVER) for name in DATABASES}
    try:
        yield urls
    finally:
        for url in urls.values():
            await drop_postgres_database(PG_SERVER, url)


@contextmanager
def running_system(
    data_dir: Path, database_urls: dict[str, str], extra_env: dict[str, str] | None = None
) -> Iterator[Launcher]:
    """A started launcher with demo data; every process is checked stopped afterwards."""
    config = LaunchConfig(
        data_dir=data_dir,
        gateway_port=free_port(),
        service_ports={name: free_port() for name in SERVICES},
        nats_port=free_port(),
        database_urls=database_urls,
        demo=True,
        extra_env=extra_env or {},
    )
    launcher = Launcher(config, quiet=True)
    try:
        launcher.start()
        yield launcher
    finally:
        launcher.stop()
    assert launcher.exited() == sorted(launcher.procs, key=list(launcher.procs).index), (
        "every process stopped"
    )
