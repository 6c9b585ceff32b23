"""Forwarding requests to the services over pooled aiohttp connections.

aiohttp is the transport because the benchmark decided it (bench/gateway_overhead and
docs/adr/0004): forwarding with httpx's default transport kept under a tenth of direct
throughput on our 2-core machines. Response bodies stream; request bodies with a known
length stream when larger than 64 KiB and are sent in one piece otherwise, which avoids
chunked encoding. Limits and resilience (docs/adr/0012):

* a body larger than ``max_body_bytes`` is refused with 413: by its Content-Length before
  any of it is read; a body without one (chunked) is read into memory up to the limit
  before the service is called, so a service never sees a byte of an oversized body;
* the whole exchange with the service (request body read, connect, answer) is bounded by
  the upstream timeout;
* a call refused by the upstream's circuit breaker is answered 503 without trying;
* a connect error (nothing was sent) is retried once for idempotent methods; a request
  that may have reached the service (lost connection, timeout) is never retried.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

import aiohttp
from starlette.types import Receive, Scope, Send
from vfu_common.errors import send_problem
from vfu_common.internal_token import INTERNAL_HEADER

from gateway.breaker import CircuitBreaker
from gateway.headers import downstream_response_headers, upstream_request_headers
from gateway.limits import retry_after_header

_log = logging.getLogger(__name__)
_BUFFER_LIMIT = 64 * 1024
_KEEPALIVE_SECONDS = 4.0
# RFC 9110 §9.2.2: repeating these has the same effect as sending them once.
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})


class UpstreamError(Exception):
    """The upstream could not give an answer; carries the problem to send."""

    def __init__(self, status: int, code: str, title: str, detail: str) -> None:
        super().__init__(detail)
        self.status, self.code, self.title, self.detail = status, code, title, detail


class Upstream:
    """One service behind the gateway, with its own connection pool."""

    def __init__(
        self,
        name: str,
        base_url: str,
        *,
        pool_size: int,
        connect_timeout: float,
        read_timeout: float,
        breaker: CircuitBreaker | None = None,
        resolver: aiohttp.abc.AbstractResolver | None = None,
    ) -> None:
        """``resolver`` overrides name resolution (tests use it to fail a connect)."""
        self.name = name
        self.base_url = base_url.rstrip("/")
        self._pool_size = pool_size
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self.timeout = aiohttp.ClientTimeout(
            total=None, sock_connect=connect_timeout, sock_read=read_timeout
        )
        # Without a breaker of its own an upstream is never refused (opens at no count).
        self.breaker = breaker or CircuitBreaker(failures=2**31, open_seconds=1.0)
        self._resolver = resolver
        self._session: aiohttp.ClientSession | None = None

    @property
    def session(self) -> aiohttp.ClientSession:
        """The pooled client session (created on first use, inside the event loop)."""
        if self._session is None:
            connector = aiohttp.TCPConnector(
                limit=self._pool_size,
                ttl_dns_cache=300,
                enable_cleanup_closed=True,
                resolver=self._resolver,
                # Below uvicorn's 5 s keep-alive: the gateway drops an idle pooled
                # connection before the service closes it under a request in flight.
                keepalive_timeout=_KEEPALIVE_SECONDS,
            )
            self._session = aiohttp.ClientSession(
                connector=connector,
                timeout=self.timeout,
                auto_decompress=False,
                skip_auto_headers=("User-Agent",),
            )
            # aiohttp re-sends an idempotent request once when the connection is lost after
            # sending (RFC 9112 §9.3.1). The gateway's rule is stricter, retrying only what
            # never left (connect errors, see forward); no public switch, aiohttp's own
            # test client turns it off the same way.
            self._session._retry_connection = False
        return self._session

    async def close(self) -> None:
        """Close the pool."""
        if self._session is not None:
            await self._session.close()
            self._session = None


class _BodyReader:
    """Reads the client's body within ``limit`` bytes; remembers why it stopped early.

    The flags matter when the body streams into aiohttp: it wraps an exception raised by
    the body iterator in its own connection error, so the cause is read from here.
    """

    def __init__(self, receive: Receive, limit: int) -> None:
        self._receive = receive
        self.limit = limit
        self.too_large = False
        self.client_gone = False

    async def chunks(self) -> AsyncIterator[bytes]:
        size = 0
        while True:
            message = await self._receive()
            if message["type"] == "http.disconnect":
                # Never forward a truncated body as if it were whole.
                self.client_gone = True
                raise _Stop
            chunk: bytes = message.get("body", b"")
            size += len(chunk)
            if size > self.limit:
                self.too_large = True
                raise _Stop
            if chunk:
                yield chunk
            if not message.get("more_body", False):
                return

    async def read(self) -> bytes:
        return b"".join([chunk async for chunk in self.chunks()])


class _Stop(Exception):
    """The request body ended early: too large, or the client went away."""


def _content_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            return int(value)
    return None


def _classify(upstream: Upstream, exc: BaseException) -> tuple[UpstreamError, bool, bool]:
    """The problem for a failed call, whether it counts against the upstream, and whether
    the call may be retried (only if nothing can have reached the service)."""
    if isinstance(exc, aiohttp.ClientConnectorError):
        return _unavailable(upstream), True, True
    if isinstance(exc, aiohttp.ServerDisconnectedError):
        return _unavailable(upstream), True, False
    if isinstance(exc, TimeoutError):
        error = UpstreamError(
            504,
            "upstream_timeout",
            "Gateway timeout",
            f"The {upstream.name} service did not answer in time.",
        )
        return error, True, False
    error = UpstreamError(
        502, "bad_gateway", "Bad gateway", f"The {upstream.name} service gave an invalid answer."
    )
    return error, False, False


def _unavailable(upstream: Upstream) -> UpstreamError:
    return UpstreamError(
        503,
        "upstream_unavailable",
        "Service unavailable",
        f"The {upstream.name} service cannot be reached; try again later.",
    )


async def _too_large(send: Send, limit: int) -> None:
    await send_problem(
        send,
        413,
        "payload_too_large",
        "Payload too large",
        f"The request body is larger than {limit} bytes.",
    )


async def forward(
    upstream: Upstream,
    scope: Scope,
    receive: Receive,
    send: Send,
    *,
    internal_token: str,
    request_id: str,
    retry_after: int,
    max_body_bytes: int,
) -> None:
    """Send the request to ``upstream`` and stream its answer back to the client."""
    loop = asyncio.get_running_loop()
    # One deadline for the whole exchange, retry included.
    deadline = loop.time() + upstream.read_timeout
    try:
        length = _content_length(scope)
    except ValueError:
        await send_problem(send, 400, "bad_request", "Bad request", "Invalid Content-Length.")
        return
    if length is not None and length > max_body_bytes:
        await _too_large(send, max_body_bytes)
        return
    reader = _BodyReader(receive, max_body_bytes)
    body: bytes | AsyncIterator[bytes] | None
    if length is not None and length > _BUFFER_LIMIT:
        body = reader.chunks()
    elif length is not None or any(k == b"transfer-encoding" for k, _ in scope["headers"]):
        # Small, or of unknown length: read it whole (at most the limit) before calling.
        try:
            async with asyncio.timeout_at(deadline):
                body = await reader.read()
        except _Stop:
            if reader.too_large:
                await _too_large(send, max_body_bytes)
            return
        except TimeoutError:
            await send_problem(
                send, 408, "request_timeout", "Request timeout", "The request body came too slowly."
            )
            return
    else:
        body = None

    path = scope.get("raw_path") or scope["path"].encode()
    query = scope.get("query_string", b"")
    url = (
        upstream.base_url
        + path.decode("latin-1")
        + ("?" + query.decode("latin-1") if query else "")
    )
    headers = upstream_request_headers(scope["headers"])
    client = scope.get("client")
    headers += [
        (INTERNAL_HEADER, internal_token),
        ("x-request-id", request_id),
        ("x-forwarded-proto", scope.get("scheme", "http")),
    ]
    if client:
        headers.append(("x-forwarded-for", client[0]))
    # A streamed body cannot be sent twice; a non-idempotent request must not be.
    attempts = 2 if scope["method"] in IDEMPOTENT_METHODS and not _is_stream(body) else 1
    breaker = upstream.breaker
    started = False
    for attempt in range(attempts):
        wait = breaker.admit()
        if wait > 0:
            await send_problem(
                send,
                503,
                "upstream_unavailable",
                "Service unavailable",
                f"The {upstream.name} service is failing; the gateway is not calling it now.",
                headers=[(b"retry-after", retry_after_header(wait))],
            )
            return
        verdict = False
        try:
            timeout = aiohttp.ClientTimeout(
                total=max(deadline - loop.time(), 0.001),
                sock_connect=upstream.connect_timeout,
                sock_read=upstream.read_timeout,
            )
            async with upstream.session.request(
                scope["method"],
                url,
                headers=headers,
                data=body,
                allow_redirects=False,
                timeout=timeout,
            ) as response:
                breaker.success()
                verdict = True
                await send(
                    {
                        "type": "http.response.start",
                        "status": response.status,
                        "headers": downstream_response_headers(response.headers.items()),
                    }
                )
                started = True
                async for chunk in response.content.iter_any():
                    await send({"type": "http.response.body", "body": chunk, "more_body": True})
                await send({"type": "http.response.body", "body": b""})
            return
        except (aiohttp.ClientError, TimeoutError, _Stop) as exc:
            if reader.client_gone:
                return
            if reader.too_large and not started:
                await _too_large(send, max_body_bytes)
                return
            error, counts, retryable = _classify(upstream, exc)
            if counts and not verdict:
                breaker.failure()
                verdict = True
            if retryable and attempt + 1 < attempts:
                _log.info("retrying %s %s after %s", scope["method"], upstream.name, exc)
                continue
            await _fail(send, started, retry_after, error, exc)
            return
        finally:
            if not verdict:
                breaker.abandon()


def _is_stream(body: bytes | AsyncIterator[bytes] | None) -> bool:
    return body is not None and not isinstance(body, bytes)


async def _fail(
    send: Send, started: bool, retry_after: int, error: UpstreamError, cause: BaseException
) -> None:
    _log.warning("upstream failure: %s (%s: %s)", error.code, type(cause).__name__, cause)
    if started:
        # Headers are gone already: all we can do is cut the response short.
        raise RuntimeError(f"upstream failed mid-response: {error.code}") from cause
    await send_problem(
        send,
        error.status,
        error.code,
        error.title,
        error.detail,
        headers=[(b"retry-after", str(retry_after).encode())],
    )
