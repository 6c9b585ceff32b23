"""Headers on every gateway response (security, caching, CORS) and the last-resort 500.

Pure ASGI: headers are rewritten once, in ``http.response.start``, whether the response
comes from a service, from the gateway's own routes or from a problem it raised itself.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import re

from starlette.types import ASGIApp, Message, Receive, Scope, Send
from vfu_common.errors import send_problem

from gateway.cors import CorsPolicy, is_preflight

_log = logging.getLogger(__name__)

# API answers are JSON: nothing in them may load, run or be framed.
API_CSP = b"default-src 'none'; frame-ancestors 'none'"
HSTS = b"max-age=31536000; includeSubDomains"
_ALWAYS = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
]
# Headers only the gateway decides: a service's values are dropped, not merged.
_OWNED = frozenset(
    {
        b"x-content-type-options",
        b"referrer-policy",
        b"x-frame-options",
        b"content-security-policy",
        b"strict-transport-security",
    }
)
_INLINE_SCRIPT = re.compile(rb"<script>(.*?)</script>", re.DOTALL)
_EXTERNAL = re.compile(rb'(?:src|href)="(https://[^/"]+)/')


def docs_csp(html: bytes) -> bytes:
    """A CSP for the Swagger UI page that allows exactly what ``html`` loads.

    Its scripts and stylesheet come from a CDN, its favicon from another host, its one
    inline script is allowed by hash; it fetches /openapi.json from the gateway itself.
    Swagger UI sets inline styles and uses data: images, so those are allowed too.
    """
    hashes = b" ".join(
        b"'sha256-" + base64.b64encode(hashlib.sha256(body).digest()) + b"'"
        for body in _INLINE_SCRIPT.findall(html)
    )
    hosts = b" ".join(sorted(set(_EXTERNAL.findall(html))))
    return (
        b"default-src 'none'; script-src " + hosts + b" " + hashes + b"; style-src " + hosts
        + b" 'unsafe-inline'; img-src " + hosts + b" data:; connect-src 'self'; "
        b"frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
    )  # fmt: skip


class ResponseHeadersMiddleware:
    """Adds security, cache and CORS headers; answers CORS preflights itself."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        cors: CorsPolicy,
        hsts: bool,
        page_csp: dict[str, bytes] | None = None,
    ) -> None:
        self.app = app
        self.cors = cors
        self.page_csp = page_csp or {}
        self._static = list(_ALWAYS)
        if hsts:
            self._static.append((b"strict-transport-security", HSTS))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        origin = _origin(scope)
        if self.cors.enabled and is_preflight(scope["method"], scope["headers"]):
            # Preflights carry no credentials: answered here, never authenticated or
            # forwarded. Other origins get a 204 without CORS headers, which browsers refuse.
            await send(
                {
                    "type": "http.response.start",
                    "status": 204,
                    "headers": [
                        *self._static,
                        (b"content-security-policy", API_CSP),
                        (b"cache-control", b"no-store"),
                        *self.cors.preflight_headers(origin),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": b""})
            return
        csp = self.page_csp.get(scope["path"], API_CSP)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = self._headers(message.get("headers", []), csp, origin)
            await send(message)

        await self.app(scope, receive, send_with_headers)

    def _headers(
        self, raw: list[tuple[bytes, bytes]], csp: bytes, origin: bytes | None
    ) -> list[tuple[bytes, bytes]]:
        headers: list[tuple[bytes, bytes]] = []
        caching = False
        vary: list[bytes] = []
        for name, value in raw:
            lower = name.lower()
            if lower in _OWNED or lower.startswith(b"access-control-"):
                continue
            if lower in (b"cache-control", b"etag"):
                # The service chose its caching (e.g. ETag for polled reads): keep it.
                caching = True
            if lower == b"vary":
                vary.append(value)
                continue
            headers.append((name, value))
        headers += self._static
        headers.append((b"content-security-policy", csp))
        if not caching:
            # Responses carry one organisation's data: no cache may keep them.
            headers.append((b"cache-control", b"no-store"))
        if self.cors.enabled:
            # The answer differs by Origin, so caches must key on it.
            vary.append(b"Origin")
            headers += self.cors.response_headers(origin)
        if vary:
            headers.append((b"vary", b", ".join(vary)))
        return headers


def _origin(scope: Scope) -> bytes | None:
    for name, value in scope["headers"]:
        if name == b"origin":
            return bytes(value)
    return None


class ErrorGuardMiddleware:
    """Turns an unexpected exception in the gateway's own code into a generic 500 problem.

    The exception is logged here, with its traceback; the client learns nothing about it.
    If the response had started, the connection is cut instead (re-raised to the server);
    if it had been sent whole (FastAPI's own handler answered), there is nothing to do.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = finished = False

        async def tracking_send(message: Message) -> None:
            nonlocal started, finished
            if message["type"] == "http.response.start":
                started = True
            elif message["type"] == "http.response.body" and not message.get("more_body"):
                finished = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception:
            if finished:
                return
            if started:
                raise
            _log.exception("unhandled error on %s %s", scope["method"], scope["path"])
            await send_problem(
                send, 500, "internal_error", "Internal error", "The gateway failed unexpectedly."
            )
