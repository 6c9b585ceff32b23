"""Alembic helpers: one async env.py for every service, and a programmatic upgrade."""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command, context
from alembic.config import Config
from sqlalchemy import MetaData, pool
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine


def alembic_config(alembic_ini: Path, url: str) -> Config:
    """An Alembic Config for ``alembic_ini`` targeting ``url``."""
    cfg = Config(str(alembic_ini))
    # Passed as an attribute, not an ini option, so a '%' in a password needs no escaping.
    cfg.attributes["database_url"] = url
    return cfg


def upgrade(alembic_ini: Path, url: str, revision: str = "head") -> None:
    """Migrate the database at ``url`` (blocking; call via asyncio.to_thread from async code)."""
    command.upgrade(alembic_config(alembic_ini, url), revision)


def downgrade(alembic_ini: Path, url: str, revision: str = "base") -> None:
    """Migrate the database down to ``revision``."""
    command.downgrade(alembic_config(alembic_ini, url), revision)


def _do_run(connection: Connection, target_metadata: MetaData) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite ALTERs via table copies
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_async(url: str, target_metadata: MetaData) -> None:
    engine = create_async_engine(url, poolclass=pool.NullPool)
    async with engine.connect() as connection:
        if connection.dialect.name == "sqlite":
            # WAL is a property of the file: set it here, while this is the only
            # connection. Left to the service, the first connections of its three pools
            # would each switch a rollback-journal file to WAL at once, and SQLite answers
            # one of two such lock upgrades "database is locked" at once, busy timeout or
            # not (it would otherwise deadlock).
            await connection.exec_driver_sql("PRAGMA journal_mode=WAL")
            # Ends the transaction SQLAlchemy began for it, so Alembic begins and commits
            # its own (inside one already open it would commit nothing).
            await connection.commit()
        await connection.run_sync(_do_run, target_metadata)
    await engine.dispose()


def run_env(target_metadata: MetaData, default_url: str) -> None:
    """The body of every service's ``migrations/env.py`` (online mode only)."""
    url = context.config.attributes.get("database_url") or default_url
    asyncio.run(_run_async(url, target_metadata))
