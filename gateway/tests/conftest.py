"""Fixtures of the gateway tests: a migrated gateway store with credentials in it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import httpx
import pytest
from gateway.app import create_app
from gateway_kit import (
    AuthStore,
    gateway_settings,
    identity_echo,
    migrate_store,
    provision,
)
from vfu_testing.databases import sqlite_url
from vfu_testing.http import serve_together


@pytest.fixture(scope="session")
def auth_store(tmp_path_factory: pytest.TempPathFactory) -> AuthStore:
    """One store for every test that only needs to get through authentication."""
    url = sqlite_url(tmp_path_factory.mktemp("gateway-store"), "gateway")
    migrate_store(url)
    return asyncio.run(provision(url))


@pytest.fixture
def auth(auth_store: AuthStore) -> dict[str, str]:
    """``Authorization: Bearer <access token>`` of the store's university client."""
    return auth_store.auth


@pytest.fixture
async def store(database_url: str) -> AuthStore:
    """A store of this test's own, on SQLite and (when configured) PostgreSQL."""
    await asyncio.to_thread(migrate_store, database_url)
    return await provision(database_url)


GatewayClient = Callable[..., AbstractAsyncContextManager[httpx.AsyncClient]]


@pytest.fixture
def run_gateway() -> GatewayClient:
    """``async with run_gateway(database_url, **settings) as http``: a gateway over HTTP.

    Its services are one upstream double that answers with the principal it was sent.
    """

    @asynccontextmanager
    async def running(database_url: str, **overrides: Any) -> AsyncIterator[httpx.AsyncClient]:
        async with serve_together() as start:
            upstream = await start(identity_echo())
            app = create_app(gateway_settings(database_url, upstream, **overrides))
            url = await start(app)
            async with httpx.AsyncClient(base_url=url, timeout=10) as http:
                yield http

    return running
