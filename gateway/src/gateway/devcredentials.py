"""``vfu dev-credentials --out FILE < grants.json``: demo credentials for ``make run``.

For each grant (``{slug: {name, organisation_id, roles}}``, as in
``vfu_devrun.demo.development_grants``) an OAuth client, and for each portal grant
an API key too; their secrets go to FILE (mode 600, in the git-ignored data directory),
the only place they exist. Run again, it keeps FILE while every credential in it still
works in this store, and otherwise makes a fresh set (a new database, say).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import uuid
from pathlib import Path
from typing import Any, TextIO

from vfu_common.db import Database

from gateway.auth.apikeys import API_KEY_ROLES, create_api_key, list_api_keys
from gateway.auth.clients import create_client, list_clients


async def _still_valid(db: Database, credentials: dict[str, Any]) -> bool:
    clients = {c.client_id for c in await list_clients(db) if c.revoked_at is None}
    keys = {k.key_id for k in await list_api_keys(db) if k.revoked_at is None}
    wanted_clients = {c["client_id"] for c in credentials.get("clients", {}).values()}
    wanted_keys = {k["key_id"] for k in credentials.get("api_keys", {}).values()}
    return bool(wanted_clients) and wanted_clients <= clients and wanted_keys <= keys


async def _client_for(db: Database, grant: dict[str, Any]) -> dict[str, Any]:
    organisation = uuid.UUID(grant["organisation_id"]) if grant.get("organisation_id") else None
    client, secret = await create_client(
        db, name=grant["name"], organisation_id=organisation, roles=list(grant["roles"])
    )
    return client.as_json() | {"client_secret": secret}


async def _api_key_for(db: Database, grant: dict[str, Any]) -> dict[str, Any]:
    organisation = uuid.UUID(grant["organisation_id"]) if grant.get("organisation_id") else None
    key, secret = await create_api_key(
        db, name=grant["name"], organisation_id=organisation, roles=list(grant["roles"])
    )
    return key.as_json() | {"api_key": secret}


async def make_credentials(db: Database, grants: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """One client per grant, one API key per portal grant; secrets included."""
    named = list(grants.values())
    # Together: each client's secret hash takes a tenth of a second in a thread.
    clients = await asyncio.gather(*(_client_for(db, g) for g in named))
    portals = [g for g in named if set(g["roles"]) <= API_KEY_ROLES]
    keys = [await _api_key_for(db, g) for g in portals]
    return {
        "clients": {g["name"]: c for g, c in zip(named, clients, strict=True)},
        "api_keys": {g["name"]: k for g, k in zip(portals, keys, strict=True)},
    }


def _write_private(path: Path, text: str) -> None:
    temporary = path.with_suffix(".tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    temporary.replace(path)


def _read_existing(path: Path) -> dict[str, Any] | None:
    # A command-line tool: a small blocking read is fine here.
    if not path.exists():
        return None
    data: dict[str, Any] = json.loads(path.read_text())
    return data


async def dev_credentials(args: argparse.Namespace, db: Database, out: TextIO) -> int:
    """The ``vfu dev-credentials`` command."""
    path = Path(args.out)
    existing = _read_existing(path)
    if existing is not None and await _still_valid(db, existing):
        out.write(f"kept {path}\n")
        return 0
    grants: dict[str, dict[str, Any]] = json.load(sys.stdin)
    credentials = await make_credentials(db, grants)
    _write_private(path, json.dumps(credentials, indent=2, ensure_ascii=False))
    out.write(f"wrote {path}\n")
    return 0
