"""The whole system, started once per test module, with a credential for every role;
and the scheduling that keeps the tests sharing a started system on one worker.

``tests/access`` and ``tests/api`` call every operation of the gateway's aggregated
OpenAPI as every role; they share this fixture (one system per module). The system is
what ``make run`` starts (``vfu_devrun.launcher``), on free ports with SQLite, and
with the gateway's per-client rate limit lifted: one test client makes hundreds of calls.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from vfu_devrun.launcher import SERVICES, LaunchConfig, Launcher, fetch_access_token
from vfu_devrun.processes import free_port
from xdist.scheduler import LoadScopeScheduling

# Tests that share one started system (15-30 s to start) by module or package fixture;
# each group runs on one pytest-xdist worker, which starts the system once.
SYSTEM_GROUPS = {
    "tests/access/test_access_matrix.py": "access-matrix-system",
    "tests/api/": "api-system",
    "tests/e2e/test_placements_flow.py": "e2e-shared-system",
    "tests/e2e/test_supervision_flow.py": "e2e-shared-system",
    "tests/e2e/test_system.py": "e2e-shared-system",
}


class SharedSystemScheduling(LoadScopeScheduling):
    """``--dist load``, except that each of ``SYSTEM_GROUPS`` goes to one worker whole.

    pytest-xdist's own ``loadgroup`` would do it from ``xdist_group`` marks, but it works
    by rewriting ``Item._nodeid``, which pytest 9.2 no longer has: the marks are ignored.
    The biggest groups are handed out first (``--loadscope-reorder``, the default), so
    the long ones do not end the run on one worker.
    """

    def _split_scope(self, nodeid: str) -> str:
        for prefix, group in SYSTEM_GROUPS.items():
            if nodeid.startswith(prefix):
                return group
        return nodeid


def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """Our scheduling whenever xdist would distribute test by test (``-n`` alone)."""
    if config.getvalue("dist") == "load":
        return SharedSystemScheduling(config, log)
    return None


# Each role as a demo grant (``Launcher.key_named``); the coordinator has no demo grant and
# gets an OAuth client of its own in ``running_system``.
ROLE_GRANTS = {
    "admin": "platform admin",
    "university": "Uppsala universitet",
    "provider": "Region Uppsala",
    "portal": "student portal",
}
# Lifted far above what one module sends, so no answer under test is a 429.
UNLIMITED_GATEWAY = {
    "GATEWAY_RATE_LIMIT_PER_SECOND": "100000",
    "GATEWAY_RATE_LIMIT_BURST": "100000",
}


@dataclass
class RunningSystem:
    """A started launcher plus what the tests need to act as each role."""

    launcher: Launcher
    coordinator: dict[str, Any]

    @property
    def url(self) -> str:
        """The gateway."""
        return self.launcher.config.gateway_url

    @property
    def gateway_database_url(self) -> str:
        """The gateway's store (signing keys, clients)."""
        return self.launcher.database_url("gateway")

    def key(self, role: str) -> str:
        """A bearer value acting as ``role`` (a fresh token shortly before one expires)."""
        if role == "coordinator":
            return self._coordinator_token()
        return self.launcher.key_named(ROLE_GRANTS[role])

    def headers(self, role: str) -> dict[str, str]:
        """``Authorization`` for ``role``."""
        return {"Authorization": f"Bearer {self.key(role)}"}

    def openapi(self) -> dict[str, Any]:
        """The gateway's aggregated OpenAPI document, with every service in it."""
        document: dict[str, Any] = httpx.get(f"{self.url}/openapi.json", timeout=10).json()
        missing = document.get("info", {}).get("x-vfu-missing-services")
        assert not missing, f"the gateway's OpenAPI lacks services: {missing}"
        return document

    _token: tuple[str, float] | None = None

    def _coordinator_token(self) -> str:
        if self._token is None or self._token[1] - time.monotonic() < 60:
            token, expires_in = fetch_access_token(
                self.url, self.coordinator["client_id"], self.coordinator["client_secret"]
            )
            self._token = (token, time.monotonic() + expires_in)
        return self._token[0]


def _create_coordinator(launcher: Launcher, organisation_id: str) -> dict[str, Any]:
    """A coordinator OAuth client, made with the ``vfu`` command on the launcher's store."""
    made = subprocess.run(
        [
            sys.executable,
            "-m",
            "gateway.admin",
            "clients",
            "create",
            "--name",
            "Regional VFU coordinator",
            "--role",
            "coordinator",
            "--organisation",
            organisation_id,
            "--json",
        ],
        env=launcher.gateway_env(launcher.config.data_dir / "keys" / "internal_private.pem"),
        capture_output=True,
        text=True,
        check=False,
    )
    assert made.returncode == 0, made.stderr
    client: dict[str, Any] = json.loads(made.stdout)
    return client


@contextmanager
def started_system(data_dir: Path, *, demo: bool) -> Iterator[RunningSystem]:
    """NATS, the three services and the gateway, with a coordinator client."""
    config = LaunchConfig(
        data_dir=data_dir,
        gateway_port=free_port(),
        service_ports={name: free_port() for name in SERVICES},
        nats_port=free_port(),
        demo=demo,
        extra_env=UNLIMITED_GATEWAY,
    )
    launcher = Launcher(config, quiet=True)
    try:
        launcher.start()
        # A coordinator of the Uppsala healthcare region (it oversees Region Uppsala's
        # agreements), acting for the region's organisation.
        region = launcher.grants()[ROLE_GRANTS["provider"]]["organisation_id"]
        yield RunningSystem(launcher, _create_coordinator(launcher, str(region)))
    finally:
        launcher.stop()


@pytest.fixture(scope="module")
def running_system(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningSystem]:
    """The whole system for one module.

    With the demo data unless the module sets ``SYSTEM_WITH_DEMO_DATA = False`` (loading it
    takes a while; the credentials exist either way).
    """
    demo = getattr(request.module, "SYSTEM_WITH_DEMO_DATA", True)
    with started_system(tmp_path_factory.mktemp("system") / "data", demo=demo) as system:
        yield system
