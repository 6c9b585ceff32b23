"""Pure ASGI middleware writing one audit record per mutating request.

Installed inside ``InternalIdentityMiddleware`` (it needs the principal) and inside
``RequestContextMiddleware`` (it reads the bound request id). The record is written in its
own short transaction (shared by the records that arrive meanwhile: audit.batching) when
the response starts, before the first byte reaches the client: a caller that saw the
answer can find its record, and refusals, whose unit of work rolled back, are recorded as
well (ADR 0011).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from vfu_common.audit.batching import batcher_for
from vfu_common.audit.tables import (
    OBJECT_ID_LENGTH,
    REQUEST_ID_LENGTH,
    ROUTE_LENGTH,
    SUBJECT_LENGTH,
)
from vfu_common.db import Database
from vfu_common.errors import is_database_busy
from vfu_common.logging import current_request_id
from vfu_common.principal import Principal
from vfu_common.utc import utcnow
from vfu_common.uuid7 import new_id

MUTATING_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# A 201 body is buffered to read its ``id``; bodies beyond this are streamed unread.
MAX_BUFFERED_BODY = 64 * 1024
_log = logging.getLogger(__name__)


def service_database(scope: Scope) -> Database:
    """The Database of the service app serving ``scope`` (set by its lifespan)."""
    db: Database = scope["app"].state.runtime.db
    return db


def outcome_of(status: int) -> str:
    """``succeeded`` for 2xx (and 3xx), ``refused`` for 4xx, ``failed`` for 5xx."""
    if status >= 500:
        return "failed"
    return "refused" if status >= 400 else "succeeded"


@dataclass(frozen=True)
class AuditRecord:
    """One row of audit_log."""

    id: Any
    occurred_at: datetime
    subject: str
    organisation_id: Any
    roles: str
    method: str
    route: str
    object_id: str | None
    status: int
    outcome: str
    request_id: str | None

    def values(self) -> dict[str, Any]:
        """The record as the row's values. Shallow: ``dataclasses.asdict`` deep-copies
        every UUID and datetime, a measurable share of a booking's time (ADR 26)."""
        return dict(vars(self))

    def as_json(self) -> str:
        """The record for a log line, when it could not be stored."""
        return json.dumps(self.values(), default=str, sort_keys=True)


def path_object_id(scope: Scope) -> str | None:
    """The last path parameter named ``*_id`` (the most specific object), if any."""
    found = None
    for name, value in scope.get("path_params", {}).items():
        if name.endswith("_id"):
            found = str(value)
    return found


def body_object_id(body: bytes) -> str | None:
    """The ``id`` of a JSON object body, if it has one."""
    try:
        document = json.loads(body)
    except ValueError:
        return None
    value = document.get("id") if isinstance(document, dict) else None
    return None if value is None else str(value)


def _is_json(message: Message) -> bool:
    for key, value in message.get("headers", []):
        if key.lower() == b"content-type":
            return bytes(value).startswith(b"application/json")
    return False


class AuditMiddleware:
    """Records every POST/PUT/PATCH/DELETE that reached a route with a principal."""

    def __init__(
        self, app: ASGIApp, database: Callable[[Scope], Database] = service_database
    ) -> None:
        self.app = app
        self.database = database

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # Reads pass straight through: no allocation, no clock, no database.
        if scope["type"] != "http" or scope["method"] not in MUTATING_METHODS:
            await self.app(scope, receive, send)
            return
        principal = scope.get("state", {}).get("principal")
        if principal is None:  # a public path: nobody to attribute the change to
            await self.app(scope, receive, send)
            return
        await _AuditedExchange(self, scope, principal, send).run(receive)

    async def write(self, scope: Scope, record: AuditRecord) -> None:
        """Insert ``record`` in its own transaction (shared with the records arriving
        meanwhile: audit.batching); log it in full if that fails."""
        try:
            await batcher_for(self.database(scope).write_engine).write(record.values())
        except Exception:
            # Never lose a record silently, and never turn an answered request into a 500.
            _log.exception("audit record not written: %s", record.as_json())


class _AuditedExchange:
    """The state of one audited request while its response is being sent."""

    def __init__(
        self, middleware: AuditMiddleware, scope: Scope, principal: Principal, send: Send
    ) -> None:
        self.middleware = middleware
        self.scope = scope
        self.principal = principal
        self.downstream = send
        self.occurred_at = utcnow()
        self.recorded = False
        self.held_start: Message | None = None
        self.held_body: list[bytes] = []
        self.held_size = 0

    async def run(self, receive: Receive) -> None:
        try:
            await self.middleware.app(self.scope, receive, self.send)
        except Exception as exc:
            # The 500 (or 503 for a busy SQLite) is rendered outside this middleware.
            if not self.recorded:
                status = 503 if is_database_busy(exc) else 500
                await self.record(status, path_object_id(self.scope))
            raise

    async def send(self, message: Message) -> None:
        if self.recorded:
            await self.downstream(message)
        elif message["type"] == "http.response.start":
            await self.on_start(message)
        elif message["type"] == "http.response.body" and self.held_start is not None:
            await self.on_held_body(message)
        else:
            await self.downstream(message)

    async def on_start(self, message: Message) -> None:
        status: int = message["status"]
        object_id = path_object_id(self.scope)
        if object_id is None and status == 201 and _is_json(message):
            self.held_start = message  # the created object's id is in the body
            return
        await self.record(status, object_id)
        await self.downstream(message)

    async def on_held_body(self, message: Message) -> None:
        assert self.held_start is not None
        chunk: bytes = message.get("body", b"")
        self.held_body.append(chunk)
        self.held_size += len(chunk)
        more = bool(message.get("more_body", False))
        if more and self.held_size <= MAX_BUFFERED_BODY:
            return
        body = b"".join(self.held_body)
        await self.record(self.held_start["status"], None if more else body_object_id(body))
        await self.downstream(self.held_start)
        await self.downstream({"type": "http.response.body", "body": body, "more_body": more})

    async def record(self, status: int, object_id: str | None) -> None:
        self.recorded = True
        route = self.scope.get("route")
        if route is None:  # no route matched (404): not a request on any object
            return
        principal = self.principal
        request_id = current_request_id() or principal.request_id
        record = AuditRecord(
            id=new_id(),
            occurred_at=self.occurred_at,
            subject=principal.subject[:SUBJECT_LENGTH],
            organisation_id=principal.organisation_id,
            roles=",".join(sorted(principal.roles)),
            method=self.scope["method"],
            route=str(getattr(route, "path", ""))[:ROUTE_LENGTH],
            object_id=object_id[:OBJECT_ID_LENGTH] if object_id else None,
            status=status,
            outcome=outcome_of(status),
            request_id=request_id[:REQUEST_ID_LENGTH] if request_id else None,
        )
        await self.middleware.write(self.scope, record)
