"""``make run`` starts again what dies: NATS and a service, killed, come back on their own.

The launcher's supervision loop (what ``python -m vfu_devrun`` runs every half second) is
driven here by the test; the processes, ports, stores and the bus are the real ones, and
an organisation registered after the restarts still reaches the other services' read
models, so the services reconnected to the restarted NATS.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import httpx
import pytest
from vfu_devrun.launcher import NATS

from tests.e2e.conftest import running_system

pytestmark = [pytest.mark.e2e, pytest.mark.stress]


def _ready(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def test_a_killed_nats_and_a_killed_service_are_started_again(tmp_path: Path) -> None:
    with running_system(tmp_path / "data", {}) as launcher:
        assert launcher.nats is not None
        placements = launcher.procs["placements"]
        launcher.nats.kill()
        os.killpg(placements.pid, signal.SIGKILL)
        said: list[str] = []
        ready = f"http://{launcher.config.host}:{launcher.config.service_ports['placements']}"
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            said += launcher.supervise()
            restarted = {NATS, "placements"} <= {
                m.split()[0] for m in said if m.endswith("started again")
            }
            if restarted and _ready(f"{ready}/readyz"):
                break
            time.sleep(0.2)
        assert any(m.startswith("nats exited with code") for m in said), said
        assert any(m.startswith("placements exited with code -9") for m in said), said
        assert launcher.procs["placements"] is not placements
        assert _ready(f"{ready}/readyz"), said
        assert launcher.exited() == []

        headers = {"Authorization": f"Bearer {launcher.admin_key()}"}
        with httpx.Client(
            base_url=launcher.config.gateway_url, headers=headers, timeout=10
        ) as client:
            created = client.post(
                "/api/v1/agreements/organisations",
                json={
                    "organisation_number": "556000-0001",
                    "kind": "private_provider",
                    "name": "Vårdbolaget AB",
                    "municipality_code": "0114",
                },
            )
            assert created.status_code == 201, created.text
            path = f"/api/v1/placements/organisations/{created.json()['id']}"
            deadline = time.monotonic() + 30
            while (seen := client.get(path)).status_code == 404 and time.monotonic() < deadline:
                time.sleep(0.1)
            assert seen.status_code == 200, seen.text
