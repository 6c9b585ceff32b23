"""``python -m <service> [--migrate] [--host H] [--port P]``: the one way a process starts."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

import uvicorn

from vfu_common.migrations import upgrade


def serve_main(
    *,
    prog: str,
    app_factory: str,
    database_url: str | None = None,
    alembic_ini: Path | None = None,
    argv: list[str] | None = None,
    after_migrate: Callable[[str], None] | None = None,
) -> None:
    """Parse the command line, migrate if asked, then serve with uvicorn.

    Args:
        prog: Program name for ``--help``.
        app_factory: ``module:function`` returning the ASGI app.
        database_url: The database to migrate.
        alembic_ini: The service's Alembic configuration.
        argv: Arguments (default: ``sys.argv``).
        after_migrate: Called with ``database_url`` once the schema is at head, e.g. to
            load seed data that needs the new schema; it must be idempotent because every
            start with ``--migrate`` runs it again.
    """
    parser = argparse.ArgumentParser(prog=prog)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument(
        "--migrate", action="store_true", help="apply database migrations before serving"
    )
    parser.add_argument(
        "--migrate-only", action="store_true", help="apply database migrations and exit"
    )
    args = parser.parse_args(argv)
    if args.migrate or args.migrate_only:
        if alembic_ini is None or database_url is None:
            parser.error("this process has no database to migrate")
        upgrade(alembic_ini, database_url)
        if after_migrate is not None:
            after_migrate(database_url)
        if args.migrate_only:
            return
    uvicorn.run(
        app_factory,
        factory=True,
        host=args.host,
        port=args.port,
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=10,
        # The gateway sets X-Forwarded-For itself; trusting a client's copy would let any
        # local caller choose the address that is logged and forwarded.
        proxy_headers=False,
        loop="uvloop",
        http="httptools",
    )
