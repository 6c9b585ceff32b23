"""Fixtures of the agreements service tests: the real app over HTTP, NATS and a database."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from agreements.main import create_app
from agreements.settings import Settings
from vfu_devrun.processes import NatsServer
from vfu_testing.http import RunningService, running_service
from vfu_testing.tokens import test_keypair as keypair


@pytest.fixture
async def agreements_service(
    database_url: str, nats_server: NatsServer, migrate_service: Any
) -> AsyncIterator[RunningService]:
    """The migrated agreements service, its lifespan running (database, NATS, relay)."""
    await migrate_service("agreements", database_url)
    settings = Settings(
        database_url=database_url,
        nats_url=nats_server.url,
        internal_public_key=keypair()[1],
        log_level="WARNING",
    )
    async with running_service(create_app(settings), database_url) as service:
        yield service
