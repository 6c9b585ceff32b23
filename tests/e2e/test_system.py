"""End to end: the processes ``make run`` starts, then the first flow over the real bus.

POST an organisation to the agreements service through the gateway; the placements and
supervisors services receive ``organisation.registered`` over JetStream and serve it
from their own projections through the gateway.
"""

from __future__ import annotations

import json
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import httpx
import pytest
from vfu_devrun.demo import development_grants
from vfu_devrun.launcher import (
    DEV_CREDENTIALS_FILE,
    Launcher,
    fetch_access_token,
)

from tests.e2e.conftest import running_system

pytestmark = pytest.mark.e2e
OPENAPI_DOC = Path(__file__).resolve().parents[2] / "docs" / "openapi.json"


@pytest.fixture
def own_system(tmp_path: Path, database_urls: dict[str, str]) -> Iterator[Launcher]:
    """A system of this test's own: it revokes a demo client and runs the README's first
    example, which registers an organisation another test registers too."""
    with running_system(tmp_path / "data", database_urls) as launcher:
        yield launcher


@pytest.fixture
def system(shared_system: Launcher) -> Launcher:
    return shared_system


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


def test_demo_data_and_docs_are_served(own_system: Launcher) -> None:
    system = own_system
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
        # What the gateway serves is what docs/openapi.json holds (built offline).
        assert spec == json.loads(OPENAPI_DOC.read_text())
        assert client.get("/docs").status_code == 200
        unauthenticated = httpx.get(
            f"{system.config.gateway_url}/api/v1/agreements/organisations/x"
        )
        assert unauthenticated.status_code == 401
    _the_readme_first_example_succeeds(system)
    _demo_credentials_work_and_revocation_reaches_the_gateway(system)


def readme_first_example() -> str:
    """The first ``sh`` block of the README after the one with ``make run``."""
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    blocks = readme.split("```sh\n")[1:]
    return blocks[1].split("```")[0]


def _the_readme_first_example_succeeds(system: Launcher) -> None:
    """The README's first example, run by bash as a newcomer would, on the demo data."""
    script = readme_first_example().replace("http://127.0.0.1:8000", system.config.gateway_url)
    assert DEV_CREDENTIALS_FILE == "dev_credentials.json"
    assert "data/dev_credentials.json" in script
    # The script names data/dev_credentials.json relative to where make run was started.
    data_dir = system.config.data_dir
    assert data_dir.name == "data"
    done = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script],
        cwd=data_dir.parent,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    projected = json.loads(done.stdout)
    assert projected["organisation_number"] == "5560000001"
    assert projected["kind"] == "private_provider"


def _demo_credentials_work_and_revocation_reaches_the_gateway(system: Launcher) -> None:
    """Every demo grant authenticates; ``vfu clients revoke`` on the launcher's store bites."""
    assert stat.S_IMODE(system.credentials_file.stat().st_mode) == 0o600
    audit = f"{system.config.gateway_url}/api/v1/agreements/audit"
    keys = system.keys_by_name()
    assert set(keys) == set(development_grants_by_name())
    assert keys["student portal"].startswith("vfu_pk_")
    for name, key in keys.items():
        answer = httpx.get(audit, headers={"Authorization": f"Bearer {key}"})
        assert answer.status_code != 401, (name, answer.text)
    admin = system.credentials["clients"]["platform admin"]
    token, expires_in = fetch_access_token(
        system.config.gateway_url, admin["client_id"], admin["client_secret"]
    )
    assert 0 < expires_in <= 900
    headers = {"Authorization": f"Bearer {token}"}
    assert httpx.get(audit, headers=headers).status_code == 200

    revoked = subprocess.run(
        [sys.executable, "-m", "gateway.admin", "clients", "revoke", admin["client_id"]],
        env=system.gateway_env(system.config.data_dir / "keys" / "internal_private.pem"),
        capture_output=True,
        text=True,
        check=False,
    )
    assert revoked.returncode == 0, revoked.stderr
    deadline = time.monotonic() + 20  # the gateway reloads revocations every 10 s
    while httpx.get(audit, headers=headers).status_code != 401:
        assert time.monotonic() < deadline, "a revoked client's token still works"
        time.sleep(0.2)


def development_grants_by_name() -> set[str]:
    return {str(grant["name"]) for grant in development_grants().values()}


def _coverage_once_projected(
    client: httpx.Client, key: str, params: dict[str, str], *, timeout: float = 20.0
) -> dict[str, object]:
    """Poll the placements service's own coverage answer until it says covered."""
    deadline = time.monotonic() + timeout
    while True:
        body: dict[str, object] = client.get(
            "/api/v1/placements/agreement-coverage",
            params=params,
            headers={"Authorization": f"Bearer {key}"},
        ).json()
        if body.get("covered") or time.monotonic() > deadline:
            return body
        time.sleep(0.1)


def test_tripartite_agreement_signed_by_each_party_reaches_placements(system: Launcher) -> None:
    """Create, sign as each of three parties, active, seen by placements."""
    region, kommun, university = (
        system.key_named(n) for n in ("Region Uppsala", "Uppsala kommun", "Uppsala universitet")
    )
    outsider = system.key_named("Region Örebro län")
    ids = {
        name: system.grants()[name]["organisation_id"]
        for name in ("Region Uppsala", "Uppsala kommun", "Uppsala universitet")
    }
    today = date.today()
    with httpx.Client(base_url=system.config.gateway_url, timeout=10) as client:

        def post(path: str, key: str, body: object = None) -> httpx.Response:
            return client.post(path, json=body or {}, headers={"Authorization": f"Bearer {key}"})

        created = post(
            "/api/v1/agreements/agreements",
            region,
            {
                "agreement_type": "tripartite_vfu",
                "title": "Barnmorskeprogrammet, Uppsala län",
                "parties": [
                    {"organisation_id": ids["Region Uppsala"], "role": "region"},
                    {"organisation_id": ids["Uppsala kommun"], "role": "municipality"},
                    {"organisation_id": ids["Uppsala universitet"], "role": "university"},
                ],
                "professions": ["barnmorska"],
                "valid_from": today.isoformat(),
                "valid_to": today.replace(year=today.year + 2).isoformat(),
            },
        )
        assert created.status_code == 201, created.text
        agreement = f"/api/v1/agreements/agreements/{created.json()['id']}"
        assert post(f"{agreement}/propose", region).status_code == 200

        refused = post(f"{agreement}/sign", outsider)
        assert refused.status_code == 403, refused.text
        assert refused.json()["code"] == "not_a_party"

        statuses = [
            post(f"{agreement}/sign", key).json()["status"] for key in (region, kommun, university)
        ]
        assert statuses == ["pending_signatures", "pending_signatures", "active"]

        decision = _coverage_once_projected(
            client,
            university,
            {
                "university_id": ids["Uppsala universitet"],
                "provider_id": ids["Uppsala kommun"],
                "programme_code": "barnmorska",
                "start": today.isoformat(),
                "end": (today + timedelta(days=30)).isoformat(),
            },
        )
        assert decision["covered"] is True, decision
        assert decision["agreement_id"] == created.json()["id"]


def test_demo_agreements_are_active_and_projected(system: Launcher) -> None:
    university = system.key_named("Örebro universitet")
    ids = {
        name: system.grants()[name]["organisation_id"]
        for name in ("Region Örebro län", "Örebro universitet")
    }
    today = date.today()
    with httpx.Client(base_url=system.config.gateway_url, timeout=10) as client:
        decision = _coverage_once_projected(
            client,
            university,
            {
                "university_id": ids["Örebro universitet"],
                "provider_id": ids["Region Örebro län"],
                "programme_code": "lakarprogrammet",
                "start": today.isoformat(),
                "end": (today + timedelta(days=70)).isoformat(),
            },
        )
    assert decision["covered"] is True, decision
