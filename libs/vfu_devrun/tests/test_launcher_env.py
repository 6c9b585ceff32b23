"""The launcher's extra environment (``LaunchConfig.extra_env``) reaches every process."""

from __future__ import annotations

import os
from pathlib import Path

from vfu_devrun.launcher import SERVICES, LaunchConfig, Launcher


def test_extra_env_reaches_the_gateway_and_every_service(tmp_path: Path) -> None:
    extra = {"GATEWAY_RATE_LIMIT_BURST": "100000", "VFU_TEST_ONLY_MARK": "x"}
    launcher = Launcher(LaunchConfig(data_dir=tmp_path, extra_env=extra))
    environments = [launcher.gateway_env(tmp_path / "private.pem")] + [
        launcher.service_env(name, tmp_path / "public.pem") for name in SERVICES
    ]
    for env in environments:
        assert env["GATEWAY_RATE_LIMIT_BURST"] == "100000"
        assert env["VFU_TEST_ONLY_MARK"] == "x"
    assert "VFU_TEST_ONLY_MARK" not in os.environ


def test_the_launchers_own_wiring_wins_over_extra_env(tmp_path: Path) -> None:
    extra = {"GATEWAY_DATABASE_URL": "sqlite:///elsewhere.db", "AGREEMENTS_NATS_URL": "x"}
    launcher = Launcher(LaunchConfig(data_dir=tmp_path, extra_env=extra))
    gateway = launcher.gateway_env(tmp_path / "private.pem")
    assert gateway["GATEWAY_DATABASE_URL"] == launcher.database_url("gateway")
    agreements = launcher.service_env("agreements", tmp_path / "public.pem")
    assert agreements["AGREEMENTS_NATS_URL"] == launcher.nats_url()
