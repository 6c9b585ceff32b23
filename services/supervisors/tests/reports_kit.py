"""Builders for the projection and report tests: event payloads of other services, and
supervisors written straight into the registry tables (independent of the registry API).

Test data only: names like "Enhet Test 1", HSA-ids like ``SE2321000016-S001``.
"""

from __future__ import annotations

import json
import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import insert
from supervisors.registry.models import supervisor_units, supervisors
from vfu_common.db import Database
from vfu_common.events.contracts import (
    OFFER_PUBLISHED,
    UNIT_REGISTERED,
    AgreementPartyV1,
    AgreementTermsV1,
    EventContract,
    EventPayload,
    OfferV1,
)
from vfu_common.utc import utcnow
from vfu_domain.qualification import evaluate

from services.supervisors.tests.conftest import MUNICIPALITY_ID, REGION_ID, UNIVERSITY_ID

PROFESSION = "sjukskoterska"
OTHER_PROFESSION = "lakare"


def unit_event(
    unit_id: uuid.UUID,
    provider_id: uuid.UUID = REGION_ID,
    contract: EventContract = UNIT_REGISTERED,
    **overrides: Any,
) -> EventPayload:
    """A unit's public state as the placements service publishes it."""
    values: dict[str, Any] = {
        "unit_id": unit_id,
        "provider_id": provider_id,
        "name": "Enhet Test 1",
        "municipality_code": "0380",
        "care_setting": "hospital_ward",
    }
    return contract.payload(**(values | overrides))


def offer_event(
    unit_id: uuid.UUID,
    provider_id: uuid.UUID = REGION_ID,
    contract: EventContract = OFFER_PUBLISHED,
    **overrides: Any,
) -> OfferV1:
    """A published offer's state (the contract's full state; counts consistent)."""
    places = overrides.get("places", 4)
    values: dict[str, Any] = {
        "offer_id": uuid.uuid4(),
        "unit_id": unit_id,
        "provider_id": provider_id,
        "programme_code": "sjukskoterskeprogrammet",
        "profession_code": PROFESSION,
        "level": "grund",
        "term": "2027-VT",
        "start_date": date(2027, 1, 18),
        "end_date": date(2027, 3, 12),
        "places": places,
        "held_places": 0,
        "confirmed_places": 0,
        "free_places": places,
        "supervision_model": "one_to_one",
        "visibility": "all",
        "status": "published",
        "municipality_code": "0380",
        "care_setting": "hospital_ward",
    }
    payload = contract.payload(**(values | overrides))
    assert isinstance(payload, OfferV1)
    return payload


def agreement_terms(**overrides: Any) -> AgreementTermsV1:
    """An active agreement, UNIVERSITY with the region and the municipality, for nurses
    in 2027, raising the supervision level to ``course_7_5hp``."""
    agreement_id = overrides.pop("agreement_id", uuid.uuid4())
    values: dict[str, Any] = {
        "agreement_id": agreement_id,
        "series_id": agreement_id,
        "version_number": 1,
        "agreement_type": "tripartite_vfu",
        "title": "VFU-avtal Test 1",
        "status": "active",
        "parties": [
            AgreementPartyV1(organisation_id=UNIVERSITY_ID, role="university"),
            AgreementPartyV1(organisation_id=REGION_ID, role="region"),
            AgreementPartyV1(organisation_id=MUNICIPALITY_ID, role="municipality"),
        ],
        "programmes": ["sjukskoterskeprogrammet"],
        "professions": [PROFESSION],
        "valid_from": date(2027, 1, 1),
        "valid_to": date(2027, 12, 31),
        "supervision_requirement_level": "course_7_5hp",
    }
    return AgreementTermsV1(**(values | overrides))


def agreement_event(contract: EventContract, terms: AgreementTermsV1, **extra: Any) -> EventPayload:
    """``terms`` as the payload of ``contract`` (``extra``: its event-specific fields)."""
    return contract.payload(**(terms.model_dump() | extra))


async def insert_supervisor(
    db: Database,
    *,
    employer_id: uuid.UUID = REGION_ID,
    profession_code: str = PROFESSION,
    unit_ids: tuple[uuid.UUID, ...] = (),
    licence_verified: bool = True,
    level_achieved: str | None = "basic",
    required_level: str = "basic",
    active: bool = True,
    lapsed_at: datetime | None = None,
) -> uuid.UUID:
    """A supervisor row as the registry would store it; ``qualified`` follows the rule."""
    supervisor_id = uuid.uuid4()
    decision = evaluate(
        licence_verified=licence_verified,
        level_achieved=level_achieved,
        required_level=required_level,
    )
    now = utcnow()
    row = {
        "id": supervisor_id,
        "employer_id": employer_id,
        "employer_reference": None,
        "name": f"Handledare Test {supervisor_id.hex[:6]}",
        "hsa_id": f"SE2321000016-S{supervisor_id.hex[:6].upper()}",
        "profession_code": profession_code,
        "licence_verified": licence_verified,
        "licence_verified_on": date(2020, 1, 1) if licence_verified else None,
        "roles": json.dumps(["handledare"]),
        "max_concurrent_students": 2,
        "active": active,
        "level_achieved": level_achieved,
        "required_level": required_level,
        "qualified": decision.qualified,
        "qualification_reason": decision.reason,
        "qualified_since": now if decision.qualified else None,
        "qualification_lapsed_at": lapsed_at,
        "version": 1,
        "created_at": now,
        "updated_at": now,
    }
    async with db.write() as session:
        await session.execute(insert(supervisors).values(**row))
        if unit_ids:
            await session.execute(
                insert(supervisor_units),
                [{"supervisor_id": supervisor_id, "unit_id": u} for u in unit_ids],
            )
    return supervisor_id
