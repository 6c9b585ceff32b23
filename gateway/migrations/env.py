"""Alembic environment of the gateway (async, SQLite and PostgreSQL)."""

from __future__ import annotations

from gateway.migration_metadata import target_metadata
from gateway.settings import Settings
from vfu_common.migrations import run_env

run_env(target_metadata, Settings().database_url)
