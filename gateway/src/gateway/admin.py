"""``vfu``: manage the gateway's OAuth clients, API keys and signing keys.

    vfu clients create --name NAME --role ROLE [--role ROLE] [--organisation UUID] [--json]
    vfu clients list | vfu clients revoke CLIENT_ID
    vfu api-keys create --name NAME [--organisation UUID] [--json]
    vfu api-keys list | vfu api-keys revoke KEY_ID
    vfu keys list | vfu keys rotate [--activate-in SECONDS] | vfu keys retire KID [--force]
    vfu migrate
    vfu dev-credentials [--migrate] --out FILE < grants.json   (make run's demo credentials)

Works on the store in GATEWAY_DATABASE_URL (or --database-url). A secret is printed once,
when it is made, and never stored: keep it then or make a new one. Also
``python -m gateway.admin``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import uuid
from collections.abc import Awaitable, Callable, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any, TextIO

from sqlalchemy.exc import OperationalError, ProgrammingError
from vfu_common.db import Database
from vfu_common.utc import utcnow

from gateway.auth.apikeys import API_KEY_ROLES, create_api_key, list_api_keys, revoke_api_key
from gateway.auth.clients import create_client, list_clients, revoke_client
from gateway.auth.grants import GRANTABLE_ROLES, GrantError
from gateway.auth.keys import RetireRefusedError, all_keys, create_key, retire_key
from gateway.devcredentials import dev_credentials
from gateway.settings import Settings

ALEMBIC_INI = Path(__file__).resolve().parents[2] / "alembic.ini"
# Longer than a replica's reload period (GATEWAY_KEY_RELOAD_SECONDS, 10 s) and than the
# JWKS max-age (30 s): everyone knows the new key before the first token it signs.
DEFAULT_ACTIVATION_SECONDS = 60

Command = Callable[[argparse.Namespace, Database, TextIO], Awaitable[int]]


class UsageError(Exception):
    """A request the store refuses: unknown id, unknown role, the last signing key."""


def _organisation(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a uuid: {value!r}") from exc


def _emit(out: TextIO, args: argparse.Namespace, data: Any, lines: Sequence[str]) -> None:
    if args.json:
        out.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
    else:
        out.write("".join(line + "\n" for line in lines))


def _organisation_text(value: uuid.UUID | None) -> str:
    return str(value) if value else "-"


# --- clients -------------------------------------------------------------------------------


async def clients_create(args: argparse.Namespace, db: Database, out: TextIO) -> int:
    try:
        client, secret = await create_client(
            db, name=args.name, organisation_id=args.organisation, roles=args.role
        )
    except GrantError as exc:
        raise UsageError(str(exc)) from exc
    data = client.as_json() | {"client_secret": secret}
    _emit(
        out,
        args,
        data,
        [
            f"client_id      {client.client_id}",
            f"client_secret  {secret}",
            f"organisation   {_organisation_text(client.organisation_id)}",
            f"roles          {' '.join(sorted(client.roles))}",
            "The secret is shown only now. Get a token with:",
            f"  curl -s -u '{client.client_id}:<secret>' -d grant_type=client_credentials "
            "<gateway>/oauth/token",
        ],
    )
    return 0


async def clients_list(args: argparse.Namespace, db: Database, out: TextIO) -> int:
    clients = await list_clients(db)
    _emit(
        out,
        args,
        [c.as_json() for c in clients],
        [
            f"{c.client_id}  {'revoked' if c.revoked_at else 'active '}  "
            f"{_organisation_text(c.organisation_id)}  {' '.join(sorted(c.roles))}  {c.name}"
            for c in clients
        ],
    )
    return 0


async def clients_revoke(args: argparse.Namespace, db: Database, out: TextIO) -> int:
    if not await revoke_client(db, args.client_id):
        raise UsageError(f"no active client {args.client_id!r}")
    _emit(out, args, {"revoked": args.client_id}, [f"revoked {args.client_id}"])
    return 0


# --- API keys ------------------------------------------------------------------------------


async def api_keys_create(args: argparse.Namespace, db: Database, out: TextIO) -> int:
    try:
        key, secret = await create_api_key(
            db, name=args.name, organisation_id=args.organisation, roles=args.role
        )
    except GrantError as exc:
        raise UsageError(str(exc)) from exc
    _emit(
        out,
        args,
        key.as_json() | {"api_key": secret},
        [
            f"api_key        {secret}",
            f"key_id         {key.key_id}",
            f"organisation   {_organisation_text(key.organisation_id)}",
            f"roles          {' '.join(sorted(key.roles))}",
            "The key is shown only now. Send it as: Authorization: Bearer <api_key>",
        ],
    )
    return 0


async def api_keys_list(args: argparse.Namespace, db: Database, out: TextIO) -> int:
    keys = await list_api_keys(db)
    _emit(
        out,
        args,
        [k.as_json() for k in keys],
        [
            f"{k.key_id}  {'revoked' if k.revoked_at else 'active '}  "
            f"{_organisation_text(k.organisation_id)}  {' '.join(sorted(k.roles))}  {k.name}"
            for k in keys
        ],
    )
    return 0


async def api_keys_revoke(args: argparse.Namespace, db: Database, out: TextIO) -> int:
    if not await revoke_api_key(db, args.key_id):
        raise UsageError(f"no active API key {args.key_id!r}")
    _emit(out, args, {"revoked": args.key_id}, [f"revoked {args.key_id}"])
    return 0


# --- signing keys --------------------------------------------------------------------------


def _key_state(key: Any) -> str:
    if key.retired_at:
        return "retired"
    return "active" if key.activates_at <= utcnow() else "pending"


async def keys_list(args: argparse.Namespace, db: Database, out: TextIO) -> int:
    keys = await all_keys(db)
    rows = [
        {
            "kid": k.kid,
            "state": _key_state(k),
            "created_at": k.created_at.isoformat(),
            "activates_at": k.activates_at.isoformat(),
            "retired_at": k.retired_at.isoformat() if k.retired_at else None,
        }
        for k in keys
    ]
    lines = [f"{r['kid']}  {r['state']:<7}  signs from {r['activates_at']}" for r in rows]
    _emit(out, args, rows, lines)
    return 0


async def keys_rotate(args: argparse.Namespace, db: Database, out: TextIO) -> int:
    kid = await create_key(db, activates_in=timedelta(seconds=args.activate_in))
    _emit(
        out,
        args,
        {"kid": kid, "activates_in_seconds": args.activate_in},
        [
            f"new signing key {kid}: in the JWKS now, signs new tokens in {args.activate_in} s.",
            "Retire the previous key (vfu keys retire KID) once its last tokens have expired.",
        ],
    )
    return 0


async def keys_retire(args: argparse.Namespace, db: Database, out: TextIO) -> int:
    try:
        retired = await retire_key(db, args.kid, force=args.force)
    except RetireRefusedError as exc:
        raise UsageError(str(exc)) from exc
    if not retired:
        raise UsageError(f"no live signing key {args.kid!r}")
    _emit(out, args, {"retired": args.kid}, [f"retired {args.kid}; its tokens stop working"])
    return 0


async def _upgrade(db: Database) -> None:
    from vfu_common.migrations import upgrade  # Alembic is slow to import; only needed here

    await asyncio.to_thread(upgrade, ALEMBIC_INI, db.url)


async def migrate(args: argparse.Namespace, db: Database, out: TextIO) -> int:
    await _upgrade(db)
    _emit(out, args, {"migrated": True}, ["the gateway database is at the newest schema"])
    return 0


async def dev_credentials_command(args: argparse.Namespace, db: Database, out: TextIO) -> int:
    if args.migrate:
        await _upgrade(db)
    return await dev_credentials(args, db, out)


# --- the command line ----------------------------------------------------------------------


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--json", action="store_true", help="answer in JSON")
    common.add_argument(
        "--database-url", help="the gateway store (default: GATEWAY_DATABASE_URL or its default)"
    )
    parser = argparse.ArgumentParser(
        prog="vfu", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    groups = parser.add_subparsers(dest="group", required=True)

    def leaf(group: Any, name: str, command: Command, help_text: str) -> argparse.ArgumentParser:
        sub: argparse.ArgumentParser = group.add_parser(name, parents=[common], help=help_text)
        sub.set_defaults(command=command)
        return sub

    clients = groups.add_parser("clients", help="OAuth2 clients").add_subparsers(
        dest="action", required=True
    )
    create = leaf(clients, "create", clients_create, "register a client; prints its secret once")
    create.add_argument("--name", required=True, help="who the client is, for people")
    create.add_argument("--organisation", type=_organisation, help="organisation id (uuid)")
    create.add_argument("--role", action="append", required=True, choices=sorted(GRANTABLE_ROLES))
    leaf(clients, "list", clients_list, "every client")
    leaf(clients, "revoke", clients_revoke, "revoke a client").add_argument("client_id")

    api_keys = groups.add_parser("api-keys", help="API keys for student portals").add_subparsers(
        dest="action", required=True
    )
    create = leaf(api_keys, "create", api_keys_create, "make a portal API key; prints it once")
    create.add_argument("--name", required=True, help="which portal, for people")
    create.add_argument("--organisation", type=_organisation, help="organisation id (uuid)")
    create.add_argument(
        "--role", action="append", choices=sorted(API_KEY_ROLES), help="default: portal"
    )
    leaf(api_keys, "list", api_keys_list, "every API key")
    leaf(api_keys, "revoke", api_keys_revoke, "revoke an API key").add_argument("key_id")

    keys = groups.add_parser("keys", help="token signing keys").add_subparsers(
        dest="action", required=True
    )
    leaf(keys, "list", keys_list, "every signing key")
    rotate = leaf(keys, "rotate", keys_rotate, "make a new signing key")
    rotate.add_argument(
        "--activate-in",
        type=int,
        default=DEFAULT_ACTIVATION_SECONDS,
        help=f"seconds before it signs (default {DEFAULT_ACTIVATION_SECONDS})",
    )
    retire = leaf(keys, "retire", keys_retire, "retire a signing key")
    # A kid is a base64url thumbprint and may start with "-": put it last, after "--".
    retire.add_argument("kid", help="as `keys list` shows it; one starting with '-' after '--'")
    retire.add_argument("--force", action="store_true", help="even if nothing else can sign")

    groups_migrate = groups.add_parser("migrate", parents=[common], help="migrate the store")
    groups_migrate.set_defaults(command=migrate)
    dev = groups.add_parser(
        "dev-credentials", parents=[common], help="demo clients and keys for make run"
    )
    dev.add_argument("--out", required=True, help="where to write the secrets (JSON)")
    dev.add_argument(
        "--migrate", action="store_true", help="migrate the store first (one process, not two)"
    )
    dev.set_defaults(command=dev_credentials_command)
    return parser


async def _run(args: argparse.Namespace, out: TextIO) -> int:
    db = Database(args.database_url or Settings().database_url, pool_size=1)
    try:
        command: Command = args.command
        return await command(args, db, out)
    finally:
        await db.dispose()


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    """Run one command; 0 on success, 1 when the store refuses, 2 on a usage error."""
    out = out or sys.stdout
    args = _parser().parse_args(argv)
    if getattr(args, "role", None) is None and args.group == "api-keys":
        args.role = sorted(API_KEY_ROLES)
    try:
        return asyncio.run(_run(args, out))
    except UsageError as exc:
        print(f"vfu: {exc}", file=sys.stderr)
        return 1
    except (OperationalError, ProgrammingError) as exc:
        # Most often: tables missing because the store was never migrated.
        print(f"vfu: database error ({exc.orig}); has `vfu migrate` run?", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
