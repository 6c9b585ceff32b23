"""The ``vfu`` admin command: as a process against a real store, and ``main()`` in-process."""

from __future__ import annotations

import asyncio
import io
import json
import os
import stat
import subprocess
import sys
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from gateway.admin import main
from gateway_kit import ALEMBIC_INI, migrate_store
from vfu_testing.databases import sqlite_url

GatewayClient = Callable[..., Any]
GATEWAY_DIR = ALEMBIC_INI.parent
ORGANISATION = "0190a0b0-0000-7000-8000-0000000000cc"
GRANTS = {
    "admin": {"organisation_id": None, "roles": ["admin"], "name": "platform admin"},
    "portal": {"organisation_id": None, "roles": ["portal"], "name": "student portal"},
    "uu": {"organisation_id": ORGANISATION, "roles": ["university"], "name": "Uppsala universitet"},
}


def _vfu(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    """``python -m gateway.admin ARGS`` with the store in GATEWAY_DATABASE_URL."""
    env = os.environ | {"GATEWAY_DATABASE_URL": url}
    return subprocess.run(
        [sys.executable, "-m", "gateway.admin", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _run(*args: str) -> tuple[int, str]:
    out = io.StringIO()
    try:
        code = main(list(args), out=out)
    except SystemExit as exc:  # argparse's usage errors
        code = int(exc.code or 0)
    return code, out.getvalue()


@pytest.fixture
def url(tmp_path: Path) -> str:
    """A migrated, empty SQLite store."""
    database = sqlite_url(tmp_path, "gateway")
    migrate_store(database)
    return database


async def test_a_client_made_with_the_command_gets_tokens(
    database_url: str, run_gateway: GatewayClient, capsys: pytest.CaptureFixture[str]
) -> None:
    await asyncio.to_thread(migrate_store, database_url)
    created = await asyncio.to_thread(
        _vfu,
        database_url,
        "clients",
        "create",
        "--name",
        "Region Uppsala",
        "--organisation",
        ORGANISATION,
        "--role",
        "provider",
        "--json",
    )
    assert created.returncode == 0, created.stderr
    client = json.loads(created.stdout)
    listed = await asyncio.to_thread(_vfu, database_url, "clients", "list")
    assert client["client_id"] in listed.stdout
    assert client["client_secret"] not in listed.stdout  # printed once, at creation only

    async with run_gateway(database_url) as http:
        response = await http.post(
            "/oauth/token",
            data={"grant_type": "client_credentials"},
            auth=(client["client_id"], client["client_secret"]),
        )
        assert response.status_code == 200, response.text
        token = response.json()["access_token"]
        echoed = await http.get(
            "/api/v1/agreements/x", headers={"Authorization": f"Bearer {token}"}
        )
    assert echoed.json() == {
        "subject": client["client_id"],
        "organisation_id": ORGANISATION,
        "roles": ["provider"],
    }
    revoke = ("clients", "revoke", client["client_id"], "--database-url", database_url)
    assert (await asyncio.to_thread(_run, *revoke))[0] == 0
    assert (await asyncio.to_thread(_run, *revoke))[0] == 1
    assert "no active client" in capsys.readouterr().err


def test_vfu_is_a_console_script() -> None:
    project = tomllib.loads((GATEWAY_DIR / "pyproject.toml").read_text())
    assert project["project"]["scripts"]["vfu"] == "gateway.admin:main"
    script = Path(sys.executable).parent / "vfu"
    result = subprocess.run([script, "--help"], capture_output=True, text=True, check=False)
    assert result.returncode == 0
    for group in ("clients", "api-keys", "keys"):
        assert group in result.stdout


def test_api_keys_create_list_revoke(url: str) -> None:
    code, output = _run("api-keys", "create", "--name", "Studentportalen", "--database-url", url)
    assert code == 0
    key = output.split()[1]
    assert key.startswith("vfu_pk_")
    code, output = _run("api-keys", "list", "--json", "--database-url", url)
    (listed,) = json.loads(output)
    assert listed["roles"] == ["portal"]
    assert listed["revoked_at"] is None
    assert key not in output
    assert _run("api-keys", "revoke", listed["key_id"], "--database-url", url)[0] == 0
    code, output = _run("api-keys", "list", "--json", "--database-url", url)
    assert json.loads(output)[0]["revoked_at"] is not None
    assert _run("api-keys", "revoke", listed["key_id"], "--database-url", url)[0] == 1


def test_usage_errors(url: str) -> None:
    base = ("--database-url", url)
    assert _run("clients", "create", "--name", "x", "--role", "system", *base)[0] == 2
    assert _run("clients", "create", "--name", "x", *base)[0] == 2  # no role
    assert (
        _run("clients", "create", "--name", "x", "--role", "admin", "--organisation", "7", *base)[0]
        == 2
    )
    assert _run("api-keys", "create", "--name", "x", "--role", "admin", *base)[0] == 2
    assert _run("keys", "retire", "no-such-kid", *base)[0] == 1
    # A kid starting with "-" is a kid, not an option, after "--": unknown (1), not usage (2).
    assert _run("keys", "retire", *base, "--", "-no-such-kid")[0] == 1


def test_unmigrated_store_is_reported(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _ = _run("clients", "list", "--database-url", sqlite_url(tmp_path, "empty"))
    assert code == 1
    assert "vfu migrate" in capsys.readouterr().err


def test_keys_rotate_list_and_retire(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    base = ("--database-url", url, "--json")
    first = json.loads(_run("keys", "rotate", "--activate-in", "0", *base)[1])["kid"]
    pending = json.loads(_run("keys", "rotate", *base)[1])["kid"]
    states = {k["kid"]: k["state"] for k in json.loads(_run("keys", "list", *base)[1])}
    assert states == {first: "active", pending: "pending"}
    # The pending key cannot sign yet: retiring the only active one is refused...
    # (A kid is base64url and may start with "-": it goes last, after "--".)
    assert _run("keys", "retire", *base, "--", first)[0] == 1
    assert "only key that can sign" in capsys.readouterr().err
    # ...unless forced (a compromised key must be able to go at once).
    assert _run("keys", "retire", "--force", *base, "--", first)[0] == 0
    states = {k["kid"]: k["state"] for k in json.loads(_run("keys", "list", *base)[1])}
    assert states == {first: "retired", pending: "pending"}


def test_dev_credentials_are_made_once_and_remade_when_stale(
    url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "dev_credentials.json"

    def dev_credentials() -> str:
        monkeypatch.setattr(sys, "stdin", io.StringIO(json.dumps(GRANTS)))
        code, output = _run("dev-credentials", "--out", str(out), "--database-url", url)
        assert code == 0
        return output

    assert dev_credentials().startswith("wrote")
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    made = json.loads(out.read_text())
    assert set(made["clients"]) == {"platform admin", "student portal", "Uppsala universitet"}
    assert made["clients"]["Uppsala universitet"]["organisation_id"] == ORGANISATION
    assert made["clients"]["platform admin"]["roles"] == ["admin"]
    assert all(c["client_secret"].startswith("vfu_cs_") for c in made["clients"].values())
    assert set(made["api_keys"]) == {"student portal"}
    assert made["api_keys"]["student portal"]["api_key"].startswith("vfu_pk_")

    assert dev_credentials().startswith("kept")
    assert json.loads(out.read_text()) == made

    client_id = made["clients"]["platform admin"]["client_id"]
    assert _run("clients", "revoke", client_id, "--database-url", url)[0] == 0
    assert dev_credentials().startswith("wrote")
    remade = json.loads(out.read_text())
    assert remade["clients"]["platform admin"]["client_id"] != client_id
