"""Planning rounds for the tests: the coordinating organisations, a valid round body, and
opening one through the real app."""

from __future__ import annotations

import copy
import uuid
from datetime import date, timedelta
from typing import Any

from sqlalchemy import insert
from vfu_common.db import Database
from vfu_common.utc import utcnow
from vfu_domain.organisation_projection import organisations
from vfu_testing.http import Actor, RunningService

from services.placements.tests.conftest import (
    OTHER_UNIVERSITY_ID,
    REGION_ID,
    UNIVERSITY_ID,
    _org,
)

ROUNDS = "/rounds"
# Region Uppsala's VFU council (seat 0380 Uppsala: healthcare region Mellansverige).
COORDINATOR_ID = _org(20)
COORDINATOR = Actor("coordinator", COORDINATOR_ID)
# A coordinator in Stockholm's healthcare region.
STOCKHOLM_COORDINATOR = Actor("coordinator", _org(21))
TERM = "2027-HT"
OPENED_ON = date(2027, 2, 1)
GATES = {
    "demand_due": "2027-03-15",
    "offers_due": "2027-03-31",
    "allocation": "2027-04-15",
    "answers": "2027-05-01",
    "answers_outside_county": "2027-05-15",
    "names_due": "2027-06-15",
    "lock": "2027-07-01",
}
POLICY: dict[str, Any] = {
    "tiers": [
        {"name": "own and contracted", "university_ids": [str(UNIVERSITY_ID)]},
        {"name": "others", "university_ids": []},
    ],
    "default_tier": "others",
    "fairness_basis": "demand",
    "seed": 20270415,
}


def day(text: str, offset: int = 0) -> date:
    """The ISO date ``text``, moved by ``offset`` days."""
    return date.fromisoformat(text) + timedelta(days=offset)


async def project_coordinators(db: Database) -> None:
    """The organisations rounds are checked against: two coordinators and the provider."""
    rows = [
        (COORDINATOR_ID, "2321000024", "region", "Region Uppsala VFU-råd", "0380"),
        (STOCKHOLM_COORDINATOR.organisation_id, "2321000016", "region", "Region Stockholm", "0180"),
        (REGION_ID, "2321000032", "region", "Region Uppsala", "0380"),
        (UNIVERSITY_ID, "2021002866", "university", "Uppsala universitet", "0380"),
        (OTHER_UNIVERSITY_ID, "2021002874", "university", "Karolinska institutet", "0180"),
    ]
    async with db.write() as session:
        await session.execute(
            insert(organisations),
            [
                {
                    "id": org_id,
                    "organisation_number": number,
                    "kind": kind,
                    "name": name,
                    "municipality_code": code,
                    "aggregate_version": 1,
                    "updated_at": utcnow(),
                }
                for org_id, number, kind, name, code in rows
            ],
        )


def round_body(**overrides: Any) -> dict[str, Any]:
    """A demand-first round of Region Uppsala for 2027-HT over the municipality 0380."""
    body: dict[str, Any] = {
        "term": TERM,
        "title": "VFU HT 2027 Region Uppsala",
        "mode": "demand_first",
        "scope": {"municipality_codes": ["0380"]},
        "gates": dict(GATES),
        "policy": copy.deepcopy(POLICY),
    }
    return body | overrides


async def open_round(
    service: RunningService, actor: Actor = COORDINATOR, **overrides: Any
) -> dict[str, Any]:
    """Open a round and return its body (fails the test on anything but 201)."""
    response = await service.call(actor, "POST", ROUNDS, json=round_body(**overrides))
    assert response.status_code == 201, response.text
    return dict(response.json())


def round_id_of(body: dict[str, Any]) -> uuid.UUID:
    return uuid.UUID(body["id"])
