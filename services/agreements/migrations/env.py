"""Alembic environment of the agreements service (async, SQLite and PostgreSQL)."""

from __future__ import annotations

from agreements.migration_metadata import target_metadata
from agreements.settings import Settings
from vfu_common.migrations import run_env

run_env(target_metadata, Settings().database_url)
