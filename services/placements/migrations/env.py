"""Alembic environment of the placements service (async, SQLite and PostgreSQL)."""

from __future__ import annotations

from placements.migration_metadata import target_metadata
from placements.settings import Settings
from vfu_common.migrations import run_env

run_env(target_metadata, Settings().database_url)
