"""The gateway's migrations: up to head, down to base, up again, on both databases."""

from __future__ import annotations

import asyncio
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from gateway.migration_metadata import target_metadata
from gateway_kit import ALEMBIC_INI
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool
from vfu_common.migrations import downgrade, upgrade

TABLES = {"signing_keys", "oauth_clients", "api_keys", "alembic_version"}


def _schema(connection: Connection) -> dict[str, Any]:
    inspector = inspect(connection)
    tables = set(inspector.get_table_names())
    version = None
    if "alembic_version" in tables:
        version = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    columns = {t: sorted(c["name"] for c in inspector.get_columns(t)) for t in tables}
    return {"tables": tables, "version": version, "columns": columns}


def _differences(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    diff = compare_metadata(context, target_metadata)
    return [d for d in diff if not (d[0] == "remove_table" and d[1].name == "alembic_version")]


async def _inspect(url: str) -> tuple[dict[str, Any], list[Any]]:
    engine = create_async_engine(url, poolclass=NullPool)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(_schema), await connection.run_sync(_differences)
    finally:
        await engine.dispose()


async def test_upgrade_downgrade_upgrade(database_url: str) -> None:
    head = ScriptDirectory.from_config(Config(str(ALEMBIC_INI))).get_current_head()

    await asyncio.to_thread(upgrade, ALEMBIC_INI, database_url)
    at_head, diff = await _inspect(database_url)
    assert at_head["tables"] == TABLES
    assert at_head["version"] == head
    assert diff == []  # the migrations make exactly what the tables declare

    await asyncio.to_thread(downgrade, ALEMBIC_INI, database_url)
    at_base, _ = await _inspect(database_url)
    assert at_base["tables"] == {"alembic_version"}
    assert at_base["version"] is None

    await asyncio.to_thread(upgrade, ALEMBIC_INI, database_url)
    again, diff = await _inspect(database_url)
    assert again == at_head
    assert diff == []
    await asyncio.to_thread(upgrade, ALEMBIC_INI, database_url)  # at head: a no-op
    assert (await _inspect(database_url))[0] == at_head
