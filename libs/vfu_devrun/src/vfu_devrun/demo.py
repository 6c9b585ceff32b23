"""The demo data set, loaded through the gateway like any client would.

Later features add their demo data here; the organisations are the parties of the
demo agreements (a tripartite Uppsala agreement, a bilateral Örebro one).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date
from pathlib import Path
from typing import Any

from vfu_domain.reference import organisation_id_for_number

from vfu_devrun.demo_placements import load_placement_demo
from vfu_devrun.demo_rounds import load_round_demo
from vfu_devrun.demo_supervisors import load_supervisor_demo
from vfu_devrun.http import request_json


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
    status, answer = request_json("POST", url, key, body)
    return status, answer if isinstance(answer, dict) else {"answer": answer}


def _org_id(name: str) -> str:
    org = next(o for o in DEMO_ORGANISATIONS if o["name"] == name)
    return str(organisation_id_for_number(str(org["organisation_number"])))


def _next_term(today: date) -> str:
    return f"{today.year}-HT" if today.month < 7 else f"{today.year + 1}-VT"


def demo_agreements(today: date) -> list[dict[str, Any]]:
    """A tripartite nursing agreement in Uppsala and a bilateral medicine one in Örebro."""
    region, kommun, uu = (
        _org_id(n) for n in ("Region Uppsala", "Uppsala kommun", "Uppsala universitet")
    )
    orebro, oru = _org_id("Region Örebro län"), _org_id("Örebro universitet")
    term = _next_term(today)
    # In force since the academic year before this one, so the demo's placements in
    # progress and completed ones are covered too.
    since = date(today.year - 1, 8, 1)
    until = today.replace(year=today.year + 3)
    return [
        {
            "agreement_type": "tripartite_vfu",
            "title": "VFU-avtal sjuksköterskeprogrammet, Uppsala län",
            "parties": [
                {"organisation_id": region, "role": "region"},
                {"organisation_id": kommun, "role": "municipality"},
                {"organisation_id": uu, "role": "university"},
            ],
            "programmes": ["sjukskoterskeprogrammet"],
            "professions": ["sjukskoterska"],
            "valid_from": since.isoformat(),
            "valid_to": until.isoformat(),
            "notice_period_months": 6,
            "supervision_requirement_level": "basic",
            "quotas": [
                {
                    "university_organisation_id": uu,
                    "programme_code": "sjukskoterskeprogrammet",
                    "term": term,
                    "unit": "places",
                    "amount": 40,
                }
            ],
            "rates": [
                {
                    "programme_code": "sjukskoterskeprogrammet",
                    "basis": "per_student_week",
                    "amount_ore": 145_000,
                    "payer_organisation_id": uu,
                    "payee_organisation_id": region,
                },
                {
                    "programme_code": "sjukskoterskeprogrammet",
                    "basis": "per_student_week",
                    "amount_ore": 120_000,
                    "payer_organisation_id": uu,
                    "payee_organisation_id": kommun,
                },
            ],
        },
        {
            "agreement_type": "bilateral_vfu",
            "title": "VFU-avtal läkarprogrammet, Region Örebro län",
            "parties": [
                {"organisation_id": orebro, "role": "region"},
                {"organisation_id": oru, "role": "university"},
            ],
            "programmes": ["lakarprogrammet"],
            "professions": ["lakare"],
            "valid_from": since.isoformat(),
            "valid_to": until.isoformat(),
            "notice_period_months": 12,
            "supervision_requirement_level": "basic",
            "quotas": [
                {
                    "university_organisation_id": oru,
                    "programme_code": "lakarprogrammet",
                    "term": term,
                    "unit": "student_weeks",
                    "amount": 600,
                }
            ],
            "rates": [
                {
                    "programme_code": "lakarprogrammet",
                    "level": "advanced",
                    "basis": "per_student_week",
                    "amount_ore": 210_000,
                    "payer_organisation_id": oru,
                    "payee_organisation_id": orebro,
                }
            ],
        },
    ]


def _expect(status: int, body: dict[str, object], wanted: int, what: str) -> None:
    if status != wanted:
        raise RuntimeError(f"demo: {what} gave {status}: {body}")


def _sign_into_force(api: str, keys: Mapping[str, str], agreement: Mapping[str, Any]) -> str:
    """Create as the first party, propose, and sign as every party; returns the id."""
    names = {_org_id(o["name"]): o["name"] for o in DEMO_ORGANISATIONS}
    signers = [names[p["organisation_id"]] for p in agreement["parties"]]
    status, created = _post(f"{api}/agreements", keys[signers[0]], agreement)
    _expect(status, created, 201, f"creating {agreement['title']}")
    agreement_id = str(created["id"])
    status, body = _post(f"{api}/agreements/{agreement_id}/propose", keys[signers[0]], {})
    _expect(status, body, 200, "proposing")
    for signer in signers:
        status, body = _post(f"{api}/agreements/{agreement_id}/sign", keys[signer], {})
        _expect(status, body, 200, f"signing as {signer}")
    if body.get("status") != "active":
        raise RuntimeError(f"demo: {agreement['title']} is {body.get('status')}, not active")
    return agreement_id


def load_demo(
    gateway_url: str,
    keys: Mapping[str, str],
    *,
    calendar_file: Path,
    say: Callable[[str], None],
) -> None:
    """Load the demo data set through the gateway.

    Args:
        gateway_url: Where the gateway answers.
        keys: Development key by grant name ("platform admin", "Region Uppsala", ...).
        calendar_file: The placements service's calendar file (the demo round moves it).
        say: Progress output.
    """
    api = f"{gateway_url}/api/v1/agreements"
    for org in DEMO_ORGANISATIONS:  # seeded already; registering again is a no-op (409)
        status, body = _post(f"{api}/organisations", keys["platform admin"], org)
        if status not in (201, 409):
            raise RuntimeError(f"demo: registering {org['name']} gave {status}: {body}")
    for agreement in demo_agreements(date.today()):
        agreement_id = _sign_into_force(api, keys, agreement)
        say(f"demo: agreement {agreement_id} active: {agreement['title']}")
    placements = load_placement_demo(gateway_url, keys, org_id=_org_id, say=say)
    load_supervisor_demo(gateway_url, keys, placements, say=say)
    load_round_demo(gateway_url, keys, org_id=_org_id, calendar_file=calendar_file, say=say)
