"""Every service's migrations: upgrade to head, down to base, up again, on both databases.

One file for the three services (they share the mechanics in vfu_common.migrations).
"""

from __future__ import annotations

import asyncio
import importlib
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import MetaData, inspect, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool
from vfu_common.messaging.tables import metadata as messaging_metadata
from vfu_common.migrations import downgrade, upgrade

SERVICES_DIR = Path(__file__).resolve().parents[2] / "services"
SERVICES = ("agreements", "placements", "supervisors")
MESSAGING_TABLES = {"outbox", "inbox", "leases"}
# Every service keeps its own audit log (vfu_common.audit, ADR 0011).
AUDIT_TABLES = {"audit_log"}
SERVICE_TABLES = {
    "agreements": {
        "organisations",
        "organisation_healthcare_regions",
        "agreements",
        "agreement_parties",
        "agreement_scope",
        "agreement_quotas",
        "agreement_rates",
        "agreement_documents",
    },
    "placements": {
        "organisation_projection",
        "agreement_projection",
        "agreement_projection_parties",
        "care_units",
        "capacity_offers",
        "bookings",
        "booking_students",
        "supervisor_projection",
        "supervisor_projection_units",
        "supervisor_assignments",
        "quota_use",
        "planning_rounds",
        "planning_round_scope",
        "planning_round_policies",
        "planning_round_gates_passed",
        "demand_lines",
        "allocation_runs",
        "idempotency_keys",
    },
    "supervisors": {
        "organisation_projection",
        "supervisors",
        "supervisor_units",
        "training_courses",
        "training_records",
        "idempotency_keys",
        "unit_projection",
        "offer_projection",
        "agreement_requirement_projection",
        "agreement_requirement_providers",
        "supervisor_assignments",
    },
}


def alembic_ini(service: str) -> Path:
    return SERVICES_DIR / service / "alembic.ini"


def head_revision(service: str) -> str:
    head = ScriptDirectory.from_config(Config(str(alembic_ini(service)))).get_current_head()
    assert head is not None
    return head


def _schema(connection: Connection) -> dict[str, Any]:
    inspector = inspect(connection)
    tables = set(inspector.get_table_names())
    version = None
    if "alembic_version" in tables:
        version = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    return {
        "tables": tables,
        "version": version,
        "columns": {
            table: sorted(column["name"] for column in inspector.get_columns(table))
            for table in tables
        },
        "indexes": {
            table: sorted(str(index["name"]) for index in inspector.get_indexes(table))
            for table in tables
        },
        # Read from the catalogue: reflection skips expression indexes on SQLite.
        "index_names": _index_names(connection),
    }


def _index_names(connection: Connection) -> set[str]:
    if connection.dialect.name == "sqlite":
        query = "SELECT name FROM sqlite_master WHERE type = 'index'"
    else:
        query = "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema()"
    return {str(name) for name in connection.execute(text(query)).scalars()}


def declared_index_names(service: str) -> set[str]:
    """Every index the service's models declare, by name."""
    module = importlib.import_module(f"{service}.migration_metadata")
    return {
        str(index.name)
        for table in module.target_metadata.tables.values()
        for index in table.indexes
    }


def _differences(connection: Connection, service: str) -> list[Any]:
    module = importlib.import_module(f"{service}.migration_metadata")
    declared = MetaData()
    for source in (module.target_metadata, messaging_metadata):
        for table in source.tables.values():
            table.to_metadata(declared)
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    diff = compare_metadata(context, declared)
    # Alembic bookkeeping is not part of the models.
    return [d for d in diff if not (d[0] == "remove_table" and d[1].name == "alembic_version")]


async def inspect_database(url: str, service: str) -> tuple[dict[str, Any], list[Any]]:
    engine = create_async_engine(url, poolclass=NullPool)
    try:
        async with engine.connect() as connection:
            schema = await connection.run_sync(_schema)
            diff = await connection.run_sync(_differences, service)
            return schema, diff
    finally:
        await engine.dispose()


@pytest.mark.parametrize("service", SERVICES)
async def test_upgrade_downgrade_upgrade(service: str, database_url: str) -> None:
    ini = alembic_ini(service)
    expected_tables = (
        MESSAGING_TABLES | AUDIT_TABLES | SERVICE_TABLES[service] | {"alembic_version"}
    )

    await asyncio.to_thread(upgrade, ini, database_url)
    at_head, diff = await inspect_database(database_url, service)
    assert at_head["tables"] == expected_tables
    assert at_head["version"] == head_revision(service)
    assert "ix_outbox_unpublished" in at_head["indexes"]["outbox"]
    # The migrations create exactly what the models (and the messaging tables) declare,
    # expression indexes included (which the comparison cannot see).
    assert diff == []
    assert declared_index_names(service) - at_head["index_names"] == set()

    await asyncio.to_thread(downgrade, ini, database_url)
    at_base, _ = await inspect_database(database_url, service)
    assert at_base["tables"] == {"alembic_version"}
    assert at_base["version"] is None

    await asyncio.to_thread(upgrade, ini, database_url)
    again, diff = await inspect_database(database_url, service)
    assert again == at_head
    assert diff == []

    # Upgrading a database at head is a no-op, not an error.
    await asyncio.to_thread(upgrade, ini, database_url)
    assert (await inspect_database(database_url, service))[0] == at_head


@pytest.mark.parametrize("service", SERVICES)
async def test_a_migrated_sqlite_file_is_already_in_wal_mode(service: str, tmp_path: Path) -> None:
    """Bytes 18 and 19 of a SQLite file say its journal mode: 2 and 2 is WAL.

    A service opens three pools on its file at start; were the file still in rollback
    mode, their first connections would each switch it to WAL at once and one would get
    "database is locked" (SQLite's deadlock avoidance ignores the busy timeout).
    """
    path = tmp_path / "migrated.db"
    await asyncio.to_thread(upgrade, alembic_ini(service), f"sqlite+aiosqlite:///{path}")
    header = path.read_bytes()[:20]
    assert (header[18], header[19]) == (2, 2)
