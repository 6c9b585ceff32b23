"""Pure ASGI middleware (cheaper than BaseHTTPMiddleware on every request)."""

from __future__ import annotations

import re
import time
from collections.abc import Collection

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from vfu_common.errors import send_problem
from vfu_common.internal_token import INTERNAL_HEADER, InternalTokenVerifier, InvalidIdentityError
from vfu_common.logging import bind_context
from vfu_common.metrics import HTTP_DURATION, HTTP_REQUESTS
from vfu_common.uuid7 import new_id

REQUEST_ID_HEADER = b"x-request-id"
_SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
PUBLIC_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})


def header(scope: Scope, name: bytes) -> str | None:
    """The first value of a request header, decoded."""
    for key, value in scope["headers"]:
        if key == name:
            return bytes(value).decode("latin-1")
    return None


def safe_request_id(value: str | None) -> str:
    """The caller's request id if it is well-formed, else a new one."""
    return value if value and _SAFE_REQUEST_ID.match(value) else new_id().hex


class RequestContextMiddleware:
    """Binds request, correlation and trace ids to logs; echoes X-Request-ID; counts."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = safe_request_id(header(scope, REQUEST_ID_HEADER))
        bind_context(
            request_id=request_id,
            correlation_id=header(scope, b"x-correlation-id"),
            traceparent=header(scope, b"traceparent"),
        )
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                # Replace, not append: behind the gateway the service has set it already.
                message["headers"] = [
                    *(h for h in message.get("headers", []) if h[0].lower() != REQUEST_ID_HEADER),
                    (REQUEST_ID_HEADER, request_id.encode()),
                ]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            route = scope.get("route")
            path = getattr(route, "path", "unmatched")
            HTTP_REQUESTS.labels(scope["method"], path, str(status)).inc()
            HTTP_DURATION.labels(scope["method"], path).observe(time.perf_counter() - started)


class InternalIdentityMiddleware:
    """Refuses every request without a valid internal token, except ``public_paths``."""

    def __init__(
        self,
        app: ASGIApp,
        verifier: InternalTokenVerifier,
        public_paths: Collection[str] = PUBLIC_PATHS,
    ) -> None:
        self.app = app
        self.verifier = verifier
        self.public_paths = public_paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan" or (
            scope["type"] == "http" and scope["path"] in self.public_paths
        ):
            await self.app(scope, receive, send)
            return
        if scope["type"] != "http":
            # No websocket routes exist; should one appear, it must not skip identity.
            await send({"type": "websocket.close", "code": 1008})
            return
        token = header(scope, INTERNAL_HEADER.encode())
        try:
            if token is None:
                raise InvalidIdentityError("no internal identity token")
            principal = self.verifier.verify(token)
        except InvalidIdentityError:
            await send_problem(
                send,
                401,
                "unauthenticated",
                "Unauthenticated",
                "Call this service through the gateway.",
            )
            return
        scope.setdefault("state", {})["principal"] = principal
        await self.app(scope, receive, send)
