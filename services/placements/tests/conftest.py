"""Fixtures of the placements service tests: the real app over HTTP, NATS and a database.

Callers are organisations acting in a role (``Actor``); each request carries a freshly
minted internal token, as the gateway would send. Agreements reach the service's
projection through the same handlers its NATS consumer runs (``project_agreement``), so
the agreement gate can be set up without the agreements service.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import date
from typing import Any

import pytest
from placements.main import create_app
from placements.settings import Settings
from placements.subscriptions import FROM_AGREEMENTS as HANDLERS
from vfu_common.db import Database
from vfu_common.events.contracts import (
    AGREEMENT_ACTIVATED,
    AgreementPartyV1,
    AgreementTermsV1,
    EventContract,
)
from vfu_common.messaging.outbox import build_envelope
from vfu_devrun.processes import NatsServer
from vfu_testing.http import Actor, RunningService, running_service
from vfu_testing.tokens import test_keypair as keypair

API = "/api/v1/placements"


def _org(n: int) -> uuid.UUID:
    return uuid.UUID(f"00000000-0000-7000-8000-{n:012d}")


UNIVERSITY_ID = _org(1)
REGION_ID = _org(2)
MUNICIPALITY_ID = _org(3)
OTHER_UNIVERSITY_ID = _org(4)
OTHER_REGION_ID = _org(5)

UNIVERSITY = Actor("university", UNIVERSITY_ID)
OTHER_UNIVERSITY = Actor("university", OTHER_UNIVERSITY_ID)
PROVIDER = Actor("provider", REGION_ID)
OTHER_PROVIDER = Actor("provider", OTHER_REGION_ID)
PORTAL = Actor("portal", None)
ADMIN = Actor("admin", None)


@pytest.fixture
async def placements_service(
    database_url: str, nats_server: NatsServer, migrate_service: Any
) -> AsyncIterator[RunningService]:
    """The migrated placements service, its lifespan running (database, NATS, relay)."""
    await migrate_service("placements", database_url)
    settings = Settings(
        database_url=database_url,
        nats_url=nats_server.url,
        internal_public_key=keypair()[1],
        log_level="WARNING",
    )
    async with running_service(create_app(settings), database_url, api=API) as service:
        yield service


def agreement_terms(**overrides: Any) -> AgreementTermsV1:
    """An active bilateral agreement, UNIVERSITY with REGION, nursing, 2027 and 2028."""
    agreement_id = overrides.pop("agreement_id", uuid.uuid4())
    fields: dict[str, Any] = {
        "agreement_id": agreement_id,
        "series_id": agreement_id,
        "version_number": 1,
        "agreement_type": "bilateral_vfu",
        "title": "VFU nursing",
        "status": "active",
        "parties": [
            AgreementPartyV1(organisation_id=UNIVERSITY_ID, role="university"),
            AgreementPartyV1(organisation_id=REGION_ID, role="region"),
        ],
        "programmes": ["sjukskoterskeprogrammet"],
        "professions": ["sjukskoterska"],
        "valid_from": date(2027, 1, 1),
        "valid_to": date(2028, 12, 31),
    }
    return AgreementTermsV1(**(fields | overrides))


async def project_agreement(
    db: Database,
    terms: AgreementTermsV1,
    *,
    version: int = 1,
    contract: EventContract = AGREEMENT_ACTIVATED,
) -> None:
    """Apply one agreement event to the projection, as the NATS consumer would."""
    payload = contract.payload.model_validate(terms.model_dump())
    envelope = build_envelope(
        contract,
        payload,
        source="/vfu/agreements",
        aggregate_id=terms.agreement_id,
        aggregate_version=version,
    )
    async with db.write() as session:
        await HANDLERS[contract.event_type](session, envelope, payload)
