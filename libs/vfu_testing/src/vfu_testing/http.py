"""Real HTTP servers for tests: ASGI apps served by uvicorn inside the test's event loop,
and the callers and running-service handle every service's tests share."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import uvicorn
from vfu_common.db import Database
from vfu_devrun.processes import free_port

from vfu_testing.tokens import identity_headers


@asynccontextmanager
async def serve(app: Any, port: int | None = None) -> AsyncIterator[str]:
    """Serve an ASGI app over real HTTP in this event loop; yields its base URL."""
    port = port or free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            app, host="127.0.0.1", port=port, log_config=None, access_log=False, lifespan="on"
        )
    )
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


@asynccontextmanager
async def serve_together() -> AsyncIterator[Callable[[Any], Awaitable[str]]]:
    """``start(app)`` serves apps over HTTP; all of them stop together at the end."""
    entered: list[AbstractAsyncContextManager[str]] = []

    async def start(app: Any) -> str:
        context = serve(app)
        url = await context.__aenter__()
        entered.append(context)
        return url

    try:
        yield start
    finally:
        # A uvicorn server takes a few tenths of a second to stop: stop them at once.
        await asyncio.gather(*(c.__aexit__(None, None, None) for c in reversed(entered)))


@dataclass(frozen=True)
class Actor:
    """An organisation acting in one role (``organisation_id`` None: e.g. a generic portal)."""

    role: str
    organisation_id: uuid.UUID | None

    def headers(self) -> dict[str, str]:
        """Headers with a fresh internal token for this actor, as the gateway would send."""
        return identity_headers(
            roles={self.role},
            organisation_id=self.organisation_id,
            subject=f"test:{self.role}:{self.organisation_id}",
        )


@dataclass
class RunningService:
    """A service served over HTTP, with a client and a look at its database."""

    url: str
    app: Any
    client: httpx.AsyncClient
    db: Database
    api: str = ""

    async def call(self, actor: Actor, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """``method`` on ``api + path`` as ``actor`` (extra headers merge in)."""
        headers = actor.headers() | kwargs.pop("headers", {})
        return await self.client.request(method, self.api + path, headers=headers, **kwargs)


@asynccontextmanager
async def running_service(
    app: Any, database_url: str, *, api: str = ""
) -> AsyncIterator[RunningService]:
    """Serve ``app`` (its lifespan running) with a client and a Database on its database.

    The caller builds the app from the service's settings and migrates the database
    first; this is the part every service's test fixture shares.
    """
    db = Database(database_url)
    try:
        async with (
            serve(app) as url,
            httpx.AsyncClient(base_url=url, timeout=httpx.Timeout(30.0)) as client,
        ):
            yield RunningService(url=url, app=app, client=client, db=db, api=api)
    finally:
        await db.dispose()
