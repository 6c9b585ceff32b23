"""The app factory every service uses: database, NATS, relay, consumers, HTTP plumbing.

A service declares what is its own (routers, subscriptions); everything else — the
lifespan, middleware, error rendering and health endpoints — is the same everywhere and
lives here, so three services do not carry three copies of it.
"""

from __future__ import annotations

import asyncio
import contextvars
import io
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.routing import APIRoute

from vfu_common.access import AccessMatrix, enforce_access_matrix, shared_access
from vfu_common.audit.middleware import AuditMiddleware
from vfu_common.audit.router import audit_router
from vfu_common.db import Database
from vfu_common.errors import document_problems, install_problem_handlers
from vfu_common.events.streams import ensure_stream, service_stream
from vfu_common.internal_token import InternalTokenVerifier
from vfu_common.logging import configure_logging
from vfu_common.messaging.connection import NatsConnection
from vfu_common.messaging.consumer import Consumer, Subscription
from vfu_common.messaging.relay import OutboxRelay
from vfu_common.settings import BaseServiceSettings
from vfu_common.web.health import router as health_router
from vfu_common.web.middleware import InternalIdentityMiddleware, RequestContextMiddleware

_log = logging.getLogger(__name__)

#: How long a stopping service waits for its cancelled background tasks (each stops
#: within a database statement or a NATS round trip when nothing is wrong).
STOP_TIMEOUT_SECONDS = 10.0


@dataclass(frozen=True)
class ServiceDefinition:
    """What makes a service itself: its name, HTTP routers and event subscriptions."""

    name: str
    title: str
    description: str
    routers: Sequence[APIRouter] = ()
    subscriptions: Sequence[Subscription] = ()
    version: str = "0.1.0"
    # Long-running tasks of the service (e.g. a scheduler), started with it and cancelled
    # on shutdown. They do not wait for NATS: what they change reaches the outbox.
    background: Sequence[Callable[[ServiceRuntime], Awaitable[None]]] = ()
    # Who may call each operation (vfu_common.access); the shared routers' entries are
    # added here. Every /api/ operation needs an entry or the app refuses to build.
    access: AccessMatrix | None = None


@dataclass
class ServiceRuntime:
    """The live resources of one service process."""

    definition: ServiceDefinition
    settings: BaseServiceSettings
    db: Database
    nats: NatsConnection
    relay: OutboxRelay | None = None
    consumers: list[Consumer] = field(default_factory=list)
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)

    async def start(self) -> None:
        """Start the bus in the background: HTTP serves while NATS is still away.

        Each worker starts in an empty context: a task copies the context it is created
        in, and a request or event id bound there (by whatever started the service)
        would otherwise label every statement and log line the worker ever writes.
        """
        self._tasks.append(
            asyncio.create_task(self._run_bus(), name="bus", context=contextvars.Context())
        )
        for task in self.definition.background:
            name = getattr(task, "__qualname__", "background")
            self._tasks.append(
                asyncio.create_task(_awaited(task(self)), name=name, context=contextvars.Context())
            )

    async def _run_bus(self) -> None:
        await self.nats.connect()
        js = self.nats.jetstream()
        await _retry_until_done(lambda: ensure_stream(js, service_stream(self.definition.name)))
        self.relay = OutboxRelay(
            self.db, js, service=self.definition.name, poll_seconds=self.settings.relay_poll_seconds
        )
        self._tasks.append(asyncio.create_task(self.relay.run(), name="relay"))
        for subscription in self.definition.subscriptions:
            sub = replace(subscription, max_deliver=self.settings.consumer_max_deliver)
            consumer = Consumer(self.db, js, sub)
            self.consumers.append(consumer)
            self._tasks.append(asyncio.create_task(consumer.run(), name=sub.durable))

    async def stop(self) -> None:
        """Stop fetch loops and the relay, drain NATS, close the database.

        Raises:
            RuntimeError: a background task ignored its cancellation for
                ``STOP_TIMEOUT_SECONDS``; it is named and its stack logged, and NATS and the
                database are closed all the same. A shutdown that hangs instead would
                stall a rolling update until the orchestrator kills the process, and say
                nothing about why.
        """
        tasks = list(self._tasks)
        for task in reversed(tasks):
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=STOP_TIMEOUT_SECONDS)
        stuck = [task for task in tasks if not task.done()]
        for task in tasks:
            if task.done() and not task.cancelled():
                task.exception()  # retrieved: a task that failed on its own was logged then
        for task in stuck:
            stack = io.StringIO()
            task.print_stack(file=stack)
            _log.error(
                "task %s did not stop when cancelled:\n%s", task.get_name(), stack.getvalue()
            )
        await self.nats.close()
        await self.db.dispose()
        if stuck:
            names = ", ".join(task.get_name() for task in stuck)
            raise RuntimeError(
                f"background tasks did not stop within {STOP_TIMEOUT_SECONDS}s: {names}"
            )


async def _awaited(work: Awaitable[None]) -> None:
    await work


async def _retry_until_done(step: object) -> None:
    delay = 0.2
    while True:
        try:
            await step()  # type: ignore[operator]
            return
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            _log.warning("start-up step failed (%s); retrying in %.1fs", exc, delay)
            await asyncio.sleep(delay)
            delay = min(5.0, delay * 2)


def _document_problems(app: FastAPI) -> None:
    """Serve an OpenAPI document whose error answers are problem+json, as they are sent."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = document_problems(build())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def operation_id(service: str) -> Callable[[APIRoute], str]:
    """OpenAPI operationIds: the service, then the handler's name (``placements_cancel_booking``).

    FastAPI's default appends the path and method (``cancel_booking_api_v1_..._post``),
    which changes whenever a path does and makes generated clients unreadable. The
    service prefix keeps ids unique in the gateway's merged document even for handlers
    every service shares (the audit log, the organisation projection).
    """

    def generate(route: APIRoute) -> str:
        return f"{service}_{route.name}"

    return generate


def create_service_app(definition: ServiceDefinition, settings: BaseServiceSettings) -> FastAPI:
    """Build the FastAPI app of a service from its definition and settings."""
    configure_logging(settings.log_level, service=definition.name)
    verifier = InternalTokenVerifier(settings.public_key_pem())

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        runtime = ServiceRuntime(
            definition=definition,
            settings=settings,
            db=Database(settings.database_url, read_concurrency=settings.database_read_concurrency),
            nats=NatsConnection(settings.nats_url, name=definition.name),
        )
        app.state.runtime = runtime
        await runtime.start()
        try:
            yield
        finally:
            await runtime.stop()

    app = FastAPI(
        title=definition.title,
        description=definition.description,
        version=definition.version,
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,  # the gateway serves the one public /docs
        generate_unique_id_function=operation_id(definition.name),
    )
    install_problem_handlers(app)
    app.include_router(health_router)
    for router in definition.routers:
        app.include_router(router)
    app.include_router(audit_router(definition.name))
    _document_problems(app)
    if definition.access is not None:
        enforce_access_matrix(app, {**shared_access(definition.name), **definition.access})
    # Added first, so it runs inside the identity middleware whose principal it records.
    app.add_middleware(AuditMiddleware)
    app.add_middleware(InternalIdentityMiddleware, verifier=verifier)
    app.add_middleware(RequestContextMiddleware)
    return app
