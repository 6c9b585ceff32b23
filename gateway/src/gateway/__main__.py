"""``python -m gateway [--host H] [--port P]``."""

from __future__ import annotations

from vfu_common.cli import serve_main

if __name__ == "__main__":
    serve_main(prog="gateway", app_factory="gateway.app:create_app")
