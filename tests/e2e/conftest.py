"""The whole system as ``make run`` starts it, on free ports, on SQLite or PostgreSQL.

Starting a system takes 15-30 s, so tests that only add to its state share one per
database (``shared_system``): each makes its own offers, bookings and agreements, and none
revokes a credential or relies on being first (a test that does starts its own with
``running_system``). Their modules are listed in ``tests.conftest.SYSTEM_GROUPS``, so
they run on one pytest-xdist worker, which starts the shared systems once.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from vfu_devrun.launcher import DATABASES, SERVICES, LaunchConfig, Launcher
from vfu_devrun.processes import free_port
from vfu_testing.databases import create_postgres_database, drop_postgres_database

PG_SERVER = os.environ.get("VFU_TEST_DATABASE_URL")
# Bursts of concurrent bookers from one client would otherwise be throttled (429) before
# they could compete for places; the rate limit has its own tests.
UNTHROTTLED = {"GATEWAY_RATE_LIMIT_BURST": "1000", "GATEWAY_RATE_LIMIT_PER_SECOND": "1000"}
DATABASE_PARAMS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture(params=DATABASE_PARAMS)
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


@pytest.fixture(scope="session", params=DATABASE_PARAMS)
def shared_system(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Launcher]:
    """One started system per database for the tests that only add to its state."""
    urls: dict[str, str] = {}
    if request.param == "postgres":
        if not PG_SERVER:
            pytest.skip("VFU_TEST_DATABASE_URL not set")
        urls = {name: asyncio.run(create_postgres_database(PG_SERVER)) for name in DATABASES}
    try:
        data_dir = tmp_path_factory.mktemp(f"shared-{request.param}") / "data"
        with running_system(data_dir, urls, UNTHROTTLED) as launcher:
            yield launcher
    finally:
        for url in urls.values():
            asyncio.run(drop_postgres_database(PG_SERVER or "", url))
