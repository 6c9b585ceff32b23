"""Fixtures of the supervisors service tests: the real app over HTTP, NATS and a database.

Callers are organisations acting in a role (``Actor``); each request carries a freshly
minted internal token, as the gateway would send. Other services' events reach the
service's read models through the same handlers its NATS consumers run (``deliver``).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from supervisors.main import create_app
from supervisors.settings import Settings
from supervisors.subscriptions import SUBSCRIPTIONS
from vfu_common.db import Database
from vfu_common.events.contracts import EventContract, EventPayload
from vfu_common.messaging.outbox import build_envelope
from vfu_devrun.processes import NatsServer
from vfu_testing.http import Actor, RunningService, running_service
from vfu_testing.tokens import test_keypair as keypair

API = "/api/v1/supervisors"


def _org(n: int) -> uuid.UUID:
    return uuid.UUID(f"00000000-0000-7000-8000-{n:012d}")


UNIVERSITY_ID = _org(1)
REGION_ID = _org(2)
MUNICIPALITY_ID = _org(3)
OTHER_UNIVERSITY_ID = _org(4)
OTHER_REGION_ID = _org(5)

UNIVERSITY = Actor("university", UNIVERSITY_ID)
OTHER_UNIVERSITY = Actor("university", OTHER_UNIVERSITY_ID)
EMPLOYER = Actor("provider", REGION_ID)
OTHER_EMPLOYER = Actor("provider", OTHER_REGION_ID)
MUNICIPALITY = Actor("provider", MUNICIPALITY_ID)
PORTAL = Actor("portal", None)
COORDINATOR = Actor("coordinator", _org(6))
ADMIN = Actor("admin", None)


@pytest.fixture
async def supervisors_service(
    database_url: str, nats_server: NatsServer, migrate_service: Any
) -> AsyncIterator[RunningService]:
    """The migrated supervisors service, its lifespan running (database, NATS, relay)."""
    await migrate_service("supervisors", database_url)
    settings = Settings(
        database_url=database_url,
        nats_url=nats_server.url,
        internal_public_key=keypair()[1],
        log_level="WARNING",
    )
    async with running_service(create_app(settings), database_url, api=API) as service:
        yield service


async def deliver(
    db: Database,
    contract: EventContract,
    payload: EventPayload,
    *,
    aggregate_id: uuid.UUID,
    version: int = 1,
) -> None:
    """Apply one event to the service's read models, as its NATS consumer would."""
    source = f"/vfu/{contract.stream_service}"
    envelope = build_envelope(
        contract, payload, source=source, aggregate_id=aggregate_id, aggregate_version=version
    )
    handlers = [
        s.handlers[contract.event_type] for s in SUBSCRIPTIONS if contract.event_type in s.handlers
    ]
    assert handlers, f"the supervisors service does not consume {contract.event_type}"
    async with db.write() as session:
        for handler in handlers:
            await handler(session, envelope, payload)
