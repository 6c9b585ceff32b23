"""Fixtures of the agreements service tests: the real app over HTTP, NATS and a database."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from agreements.main import create_app
from agreements.settings import Settings
from fastapi import FastAPI
from vfu_common.db import Database
from vfu_common.devrun.processes import NatsServer
from vfu_common.testing import test_keypair as keypair


@dataclass
class RunningService:
    """The agreements service served over HTTP, with a client and a look at its database."""

    url: str
    app: FastAPI
    client: httpx.AsyncClient
    db: Database


@pytest.fixture
async def agreements_service(
    database_url: str, nats_server: NatsServer, serve_app: Any, migrate_service: Any
) -> AsyncIterator[RunningService]:
    """The migrated agreements service, its lifespan running (database, NATS, relay)."""
    await migrate_service("agreements", database_url)
    settings = Settings(
        database_url=database_url,
        nats_url=nats_server.url,
        internal_public_key=keypair()[1],
        log_level="WARNING",
    )
    app = create_app(settings)
    db = Database(database_url)
    try:
        async with (
            serve_app(app) as url,
            httpx.AsyncClient(base_url=url, timeout=httpx.Timeout(30.0)) as client,
        ):
            yield RunningService(url=url, app=app, client=client, db=db)
    finally:
        await db.dispose()
