"""The gateway application: its own routes via FastAPI, the proxy as raw ASGI."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse
from starlette.types import Receive, Scope, Send
from vfu_common.db import Database
from vfu_common.errors import (
    PROBLEM_CONTENT_TYPE,
    PROBLEM_TYPE_BASE,
    install_problem_handlers,
    send_problem,
)
from vfu_common.internal_token import InternalTokenMinter, InternalTokenSigner
from vfu_common.logging import configure_logging, current_request_id
from vfu_common.principal import Principal
from vfu_common.web.middleware import RequestContextMiddleware, header

from gateway.auth.authenticator import Authenticator, AuthStoreUnavailableError
from gateway.auth.oauth import TokenEndpoint
from gateway.breaker import CircuitBreaker
from gateway.cors import CorsPolicy
from gateway.limits import RateLimiter, retry_after_header
from gateway.openapi import OpenApiAggregator
from gateway.proxy import Upstream, forward
from gateway.security import ErrorGuardMiddleware, ResponseHeadersMiddleware, docs_csp
from gateway.settings import Settings

API_PREFIX = "/api/v1/"
# Probes call these often, from one address; they must never be throttled.
UNLIMITED_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})
DOCS_HTML = get_swagger_ui_html(openapi_url="/openapi.json", title="VFU platform API").body


class Gateway:
    """Routes ``/api/v1/<service>/...`` to the services; everything else to FastAPI."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.signer = InternalTokenSigner(settings.private_key_pem())
        self.tokens = InternalTokenMinter(self.signer)
        # A small pool: the gateway reads its store only on token requests, API key cache
        # misses and the periodic key reload, never per proxied token-bearing request.
        self.db = Database(settings.database_url, pool_size=4)
        self.authenticator = Authenticator(settings, self.db)
        self.token_endpoint = TokenEndpoint(self.db, self.authenticator.issuer)
        self.upstreams = {
            name: Upstream(
                name,
                url,
                pool_size=settings.pool_size,
                connect_timeout=settings.connect_timeout_seconds,
                read_timeout=settings.upstream_timeout_seconds,
                breaker=CircuitBreaker(settings.breaker_failures, settings.breaker_open_seconds),
            )
            for name, url in settings.upstreams().items()
        }
        self.limiter = RateLimiter(settings.rate_limit_per_second, settings.rate_limit_burst)
        self.openapi = OpenApiAggregator(self.upstreams, self._system_token)
        self.api = self._build_fastapi()
        # Outermost first: ids and metrics, then headers (so every answer gets them,
        # a last-resort 500 included), then the guard, then routing.
        self._app = RequestContextMiddleware(
            ResponseHeadersMiddleware(
                ErrorGuardMiddleware(self._route),
                cors=CorsPolicy(settings.cors_origin_list()),
                hsts=settings.hsts,
                page_csp={"/docs": docs_csp(bytes(DOCS_HTML))},
            )
        )

    def _system_token(self) -> str:
        return self.signer.mint(Principal(subject="gateway", roles=frozenset({"system"})))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self._app(scope, receive, send)

    async def _route(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(API_PREFIX):
            limited = scope["type"] == "http" and scope["path"] not in UNLIMITED_PATHS
            if limited and not await self._admit(scope, send, None):
                return
            await self.api(scope, receive, send)
            return
        service = scope["path"][len(API_PREFIX) :].split("/", 1)[0]
        upstream = self.upstreams.get(service)
        if upstream is None:
            await send_problem(send, 404, "not_found", "Not found", f"No API at {scope['path']}.")
            return
        # RequestContextMiddleware has validated or generated the id and bound it.
        request_id = current_request_id() or ""
        authorization = header(scope, b"authorization")
        try:
            principal = await self.authenticator.authenticate(authorization, request_id)
        except AuthStoreUnavailableError:
            await send_problem(
                send,
                503,
                "auth_unavailable",
                "Authentication unavailable",
                "The gateway cannot check this credential now; try again shortly.",
                headers=[(b"retry-after", str(self.settings.retry_after_seconds).encode())],
            )
            return
        # Limited before a failed authentication is answered, so guessing keys is slow too.
        if not await self._admit(scope, send, principal):
            return
        if principal is None:
            await _unauthenticated(send, presented=bool(authorization))
            return
        await forward(
            upstream,
            scope,
            receive,
            send,
            internal_token=self.tokens.token_for(principal),
            request_id=request_id,
            retry_after=self.settings.retry_after_seconds,
            max_body_bytes=self.settings.max_body_bytes,
        )

    async def _admit(self, scope: Scope, send: Send, principal: Principal | None) -> bool:
        """Take a rate-limit token for the caller, or answer 429 and return False.

        An authenticated caller is limited by its principal wherever it calls from; anyone
        else by address (the client address the server reports: run it with trusted proxy
        headers behind a load balancer, or every caller shares the balancer's bucket).
        """
        if principal is not None:
            client = "sub:" + principal.subject
        else:
            address = scope.get("client")
            client = "ip:" + (address[0] if address else "unknown")
        wait = self.limiter.acquire(client)
        if wait <= 0:
            return True
        await send_problem(
            send,
            429,
            "rate_limited",
            "Too many requests",
            "Slow down: this client has used its request allowance; see Retry-After.",
            headers=[(b"retry-after", retry_after_header(wait))],
        )
        return False

    def _build_fastapi(self) -> FastAPI:
        gateway = self

        @asynccontextmanager
        async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
            await gateway.authenticator.start()
            try:
                yield
            finally:
                await gateway.authenticator.stop()
                for upstream in gateway.upstreams.values():
                    await upstream.close()
                await gateway.db.dispose()

        api = FastAPI(
            title="VFU gateway", lifespan=lifespan, openapi_url=None, docs_url=None, redoc_url=None
        )
        install_problem_handlers(api)

        if gateway.settings.expose_docs:
            # Not registered at all otherwise: both paths are then an ordinary 404 problem.
            @api.get("/openapi.json", include_in_schema=False)
            async def openapi() -> JSONResponse:
                return JSONResponse(await gateway.openapi.document())

            @api.get("/docs", include_in_schema=False)
            async def docs() -> HTMLResponse:
                return HTMLResponse(DOCS_HTML)

        @api.post("/oauth/token", include_in_schema=False)
        async def token(request: Request) -> JSONResponse:
            return await gateway.token_endpoint(request)

        @api.get("/.well-known/jwks.json", include_in_schema=False)
        async def jwks() -> JSONResponse:
            # Short enough that a verifier caching it sees a new key before it signs
            # (rotation pre-publishes keys for a minute: ADR 13).
            return JSONResponse(
                gateway.authenticator.keys.jwks(),
                headers={"Cache-Control": "public, max-age=30"},
            )

        @api.get("/healthz", include_in_schema=False)
        async def healthz() -> dict[str, str]:
            return {"status": "ok"}

        @api.get("/readyz", include_in_schema=False)
        async def readyz(_request: Request) -> JSONResponse:
            checks = {name: await _probe(upstream) for name, upstream in gateway.upstreams.items()}
            # Not the database: tokens verify without it, so its outage must not take every
            # replica out of the balancer; only token issuance and API key misses need it.
            checks["signing_key"] = "ok" if gateway.authenticator.ready else "none active"
            if all(v == "ok" for v in checks.values()):
                return JSONResponse({"status": "ready", "checks": checks})
            body: dict[str, Any] = {
                "type": PROBLEM_TYPE_BASE + "not_ready",
                "title": "Not ready",
                "status": 503,
                "code": "not_ready",
                "checks": checks,
            }
            return JSONResponse(
                body,
                status_code=503,
                media_type=PROBLEM_CONTENT_TYPE,
                headers={"Retry-After": str(gateway.settings.retry_after_seconds)},
            )

        return api


async def _probe(upstream: Upstream) -> str:
    try:
        async with upstream.session.get(upstream.base_url + "/readyz") as response:
            return "ok" if response.status == 200 else f"status {response.status}"
    except (aiohttp.ClientError, TimeoutError) as exc:
        return f"unreachable: {type(exc).__name__}"


async def _unauthenticated(send: Send, *, presented: bool) -> None:
    # RFC 6750 §3.1: a credential that was sent but refused is an invalid_token.
    challenge = b'Bearer realm="vfu", error="invalid_token"' if presented else b'Bearer realm="vfu"'
    await send_problem(
        send,
        401,
        "unauthenticated",
        "Unauthenticated",
        "Send Authorization: Bearer <access token from POST /oauth/token, or portal API key>.",
        headers=[(b"www-authenticate", challenge)],
    )


def create_app(settings: Settings | None = None) -> Gateway:
    """The gateway's ASGI app."""
    settings = settings or Settings()
    configure_logging(settings.log_level, service="gateway")
    return Gateway(settings)
