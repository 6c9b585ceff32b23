"""``python -m agreements [--migrate] [--host H] [--port P]``."""

from __future__ import annotations

from pathlib import Path

from vfu_common.cli import serve_main

from agreements.organisations.seed import seed_after_migrate
from agreements.settings import Settings

ALEMBIC_INI = Path(__file__).resolve().parents[2] / "alembic.ini"

if __name__ == "__main__":
    serve_main(
        prog="agreements",
        app_factory="agreements.main:create_app",
        database_url=Settings().database_url,
        alembic_ini=ALEMBIC_INI,
        # The reference organisations need the migrated schema; seeding is idempotent.
        after_migrate=seed_after_migrate,
    )
