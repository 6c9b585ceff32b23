"""``python -m gateway [--migrate | --migrate-only] [--host H] [--port P]``."""

from __future__ import annotations

from pathlib import Path

from vfu_common.cli import serve_main

from gateway.settings import Settings

# Beside the source tree (src/../alembic.ini): the image installs the gateway editable.
ALEMBIC_INI = Path(__file__).resolve().parents[2] / "alembic.ini"

if __name__ == "__main__":
    serve_main(
        prog="gateway",
        app_factory="gateway.app:create_app",
        database_url=Settings().database_url,
        alembic_ini=ALEMBIC_INI,
    )
