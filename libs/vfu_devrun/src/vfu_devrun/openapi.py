"""The platform's OpenAPI document, built offline exactly as the gateway serves it.

``python -m vfu_devrun.openapi docs/openapi.json`` writes it. Each service's app is built
(nothing is started: no database, no NATS) and its document merged by the gateway's own
``merge_documents``, so the committed file and ``GET /openapi.json`` cannot diverge; a
test regenerates it and fails on drift.
"""

from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path
from typing import Any

from gateway.openapi import merge_documents
from vfu_common.internal_token import generate_keypair

from vfu_devrun.launcher import SERVICES


def service_document(service: str, public_key: str) -> dict[str, Any]:
    """One service's OpenAPI document, from an app that is built but never started."""
    settings_class = importlib.import_module(f"{service}.settings").Settings
    app = importlib.import_module(f"{service}.main").create_app(
        settings_class(internal_public_key=public_key)
    )
    document: dict[str, Any] = app.openapi()
    return document


def platform_document() -> dict[str, Any]:
    """The merged document of every service, as the gateway's ``/openapi.json`` has it."""
    # The key only lets the apps build; no token is ever verified with it.
    public_key = generate_keypair()[1]
    documents = {service: service_document(service, public_key) for service in SERVICES}
    return merge_documents(documents, title="VFU platform", version="0.1.0")


def render() -> str:
    """The document as committed: sorted keys, two-space indent, a final newline."""
    return json.dumps(platform_document(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m vfu_devrun.openapi OUTPUT.json", file=sys.stderr)
        return 2
    Path(argv[0]).write_text(render(), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
