"""Real HTTP servers for tests: ASGI apps served by uvicorn inside the test's event loop."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import uvicorn

from vfu_common.devrun.processes import free_port


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
