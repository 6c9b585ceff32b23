"""End to end: the processes ``make run`` starts, then the first flow over the real bus.

POST an organisation to the agreements service through the gateway; the placements and
supervisors services receive ``organisation.registered`` over JetStream and serve it
from their own projections through the gateway.
"""

from __future__ import annotations

import os
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from vfu_common.devrun.launcher import SERVICES, LaunchConfig, Launcher
from vfu_common.devrun.processes import free_port
from vfu_common.testing_db import create_postgres_database, drop_postgres_database

pytestmark = pytest.mark.e2e
PG_SERVER = os.environ.get("VFU_TEST_DATABASE_URL")


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def database_urls(request: pytest.FixtureRequest) -> AsyncIterator[dict[str, str]]:
    """No URLs (SQLite files in the data directory), or one fresh PostgreSQL database each."""
    if request.param == "sqlite":
        yield {}
        return
    if not PG_SERVER:
        pytest.skip("VFU_TEST_DATABASE_URL not set")
    urls = {name: await create_postgres_database(PG_SERVER) for name in SERVICES}
    try:
        yield urls
    finally:
        for url in urls.values():
            await drop_postgres_database(PG_SERVER, url)


@pytest.fixture
def system(tmp_path: Path, database_urls: dict[str, str]) -> Iterator[Launcher]:
    config = LaunchConfig(
        data_dir=tmp_path / "data",
        gateway_port=free_port(),
        service_ports={name: free_port() for name in SERVICES},
        nats_port=free_port(),
        database_urls=database_urls,
        demo=True,
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


def _poll(client: httpx.Client, path: str, *, timeout: float = 20.0) -> httpx.Response:
    deadline = time.monotonic() + timeout
    while True:
        response = client.get(path)
        if response.status_code != 404 or time.monotonic() > deadline:
            return response
        time.sleep(0.05)


def test_organisation_flows_from_agreements_to_both_projections(system: Launcher) -> None:
    headers = {"Authorization": f"Bearer {system.admin_key()}"}
    with httpx.Client(base_url=system.config.gateway_url, headers=headers, timeout=10) as client:
        created = client.post(
            "/api/v1/agreements/organisations",
            # Not a reference organisation: those are seeded at migration, so already exist.
            json={
                "organisation_number": "556000-0001",
                "kind": "private_provider",
                "name": "Vårdbolaget AB",
                "municipality_code": "0114",
            },
            headers={"X-Request-ID": "e2e-flow-1"},
        )
        assert created.status_code == 201, created.text
        assert created.headers["x-request-id"] == "e2e-flow-1"
        organisation = created.json()
        assert organisation["organisation_number"] == "5560000001"

        for service in ("placements", "supervisors"):
            projected = _poll(client, f"/api/v1/{service}/organisations/{organisation['id']}")
            assert projected.status_code == 200, projected.text
            body = projected.json()
            assert body["name"] == "Vårdbolaget AB"
            assert body["kind"] == "private_provider"
            assert body["version"] == 1


def test_demo_data_and_docs_are_served(system: Launcher) -> None:
    headers = {"Authorization": f"Bearer {system.admin_key()}"}
    with httpx.Client(base_url=system.config.gateway_url, headers=headers, timeout=10) as client:
        again = client.post(
            "/api/v1/agreements/organisations",
            json={
                "organisation_number": "2321000024",
                "kind": "region",
                "name": "Region Uppsala",
                "municipality_code": "0380",
            },
        )
        assert again.status_code == 409, "the demo data registered Region Uppsala already"
        assert again.json()["code"] == "organisation_exists"
        spec = client.get("/openapi.json").json()
        assert "/api/v1/agreements/organisations" in spec["paths"]
        assert "/api/v1/placements/organisations/{organisation_id}" in spec["paths"]
        assert "/api/v1/supervisors/organisations/{organisation_id}" in spec["paths"]
        assert client.get("/docs").status_code == 200
        unauthenticated = httpx.get(
            f"{system.config.gateway_url}/api/v1/agreements/organisations/x"
        )
        assert unauthenticated.status_code == 401
