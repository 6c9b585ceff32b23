"""The tiny JSON-over-HTTP client the demo loader uses (stdlib only: it runs before tests)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Mapping
from typing import Any


def request_json(
    method: str, url: str, token: str, body: Mapping[str, Any] | None = None
) -> tuple[int, Any]:
    """Send ``body`` as JSON with a bearer token; the status and the decoded answer."""
    request = urllib.request.Request(  # noqa: S310 - the local gateway
        url,
        data=None if body is None else json.dumps(body).encode(),
        method=method,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read() or b"{}")
