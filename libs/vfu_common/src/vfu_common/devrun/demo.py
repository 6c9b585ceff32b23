"""The demo data set, loaded through the gateway like any client would.

Later features add their demo data here; the organisations are the parties of the
demo agreements (a tripartite Uppsala agreement, a bilateral Örebro one).
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from typing import Any

from vfu_common.reference import organisation_id_for_number


def development_grants() -> dict[str, dict[str, Any]]:
    """What each development key stands for: the admin, each demo party, a portal.

    Reference organisations have deterministic ids, so keys can name them before the
    agreements service has seeded them.
    """
    grants: dict[str, dict[str, Any]] = {
        "admin": {"organisation_id": None, "roles": ["admin"], "name": "platform admin"},
        "portal": {"organisation_id": None, "roles": ["portal"], "name": "student portal"},
    }
    for org in DEMO_ORGANISATIONS:
        role = "university" if org["kind"] == "university" else "provider"
        grants[_slug(str(org["name"]))] = {
            "organisation_id": str(organisation_id_for_number(str(org["organisation_number"]))),
            "roles": [role],
            "name": org["name"],
        }
    return grants


def _slug(name: str) -> str:
    ascii_name = name.lower().translate(str.maketrans("åäö", "aao"))
    return "-".join("".join(c if c.isalnum() else " " for c in ascii_name).split())


DEMO_ORGANISATIONS = [
    {
        "organisation_number": "2321000024",
        "kind": "region",
        "name": "Region Uppsala",
        "municipality_code": "0380",
    },
    {
        "organisation_number": "2120003005",
        "kind": "municipality",
        "name": "Uppsala kommun",
        "municipality_code": "0380",
    },
    {
        "organisation_number": "2021002932",
        "kind": "university",
        "name": "Uppsala universitet",
        "municipality_code": "0380",
    },
    {
        "organisation_number": "2321000164",
        "kind": "region",
        "name": "Region Örebro län",
        "municipality_code": "1880",
    },
    {
        "organisation_number": "2021002924",
        "kind": "university",
        "name": "Örebro universitet",
        "municipality_code": "1880",
    },
]


def _post(url: str, key: str, body: Mapping[str, object]) -> tuple[int, dict[str, object]]:
    request = urllib.request.Request(  # noqa: S310 - the local gateway
        url,
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read() or b"{}")


def load_demo(gateway_url: str, admin_key: str, *, say: Callable[[str], None]) -> None:
    """Register the demo organisations (idempotent: existing ones are left as they are)."""
    for org in DEMO_ORGANISATIONS:
        status, body = _post(f"{gateway_url}/api/v1/agreements/organisations", admin_key, org)
        if status not in (201, 409):
            raise RuntimeError(f"demo: registering {org['name']} gave {status}: {body}")
    say(f"demo: {len(DEMO_ORGANISATIONS)} organisations registered")
