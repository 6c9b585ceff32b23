"""Alembic environment of the supervisors service (async, SQLite and PostgreSQL)."""

from __future__ import annotations

from supervisors.migration_metadata import target_metadata
from supervisors.settings import Settings
from vfu_common.migrations import run_env

run_env(target_metadata, Settings().database_url)
