"""Forwarding requests to the services over pooled aiohttp connections.

aiohttp is the transport because the benchmark decided it (bench/gateway_overhead and
docs/adr/0004): forwarding with httpx's default transport kept under a tenth of direct
throughput on our 2-core machines. Bodies stream in both directions; small request
bodies with a known length are sent in one piece, which avoids chunked encoding.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import aiohttp
from starlette.types import Receive, Scope, Send
from vfu_common.errors import send_problem
from vfu_common.identity import INTERNAL_HEADER

from gateway.headers import downstream_response_headers, upstream_request_headers

_log = logging.getLogger(__name__)
_BUFFER_LIMIT = 64 * 1024


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
    ) -> None:
        self.name = name
        self.base_url = base_url.rstrip("/")
        self._pool_size = pool_size
        self.timeout = aiohttp.ClientTimeout(
            total=None, sock_connect=connect_timeout, sock_read=read_timeout
        )
        self._session: aiohttp.ClientSession | None = None

    @property
    def session(self) -> aiohttp.ClientSession:
        """The pooled client session (created on first use, inside the event loop)."""
        if self._session is None:
            connector = aiohttp.TCPConnector(
                limit=self._pool_size, ttl_dns_cache=300, enable_cleanup_closed=True
            )
            self._session = aiohttp.ClientSession(
                connector=connector,
                timeout=self.timeout,
                auto_decompress=False,
                skip_auto_headers=("User-Agent",),
            )
        return self._session

    async def close(self) -> None:
        """Close the pool."""
        if self._session is not None:
            await self._session.close()
            self._session = None


async def _stream_request_body(receive: Receive) -> AsyncIterator[bytes]:
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return
        chunk = message.get("body", b"")
        if chunk:
            yield chunk
        if not message.get("more_body", False):
            return


async def _request_body(scope: Scope, receive: Receive) -> bytes | AsyncIterator[bytes] | None:
    length = next((v for k, v in scope["headers"] if k == b"content-length"), None)
    if length is not None and int(length) <= _BUFFER_LIMIT:
        chunks = [c async for c in _stream_request_body(receive)]
        return b"".join(chunks)
    if length is None and not any(k == b"transfer-encoding" for k, _ in scope["headers"]):
        return None
    return _stream_request_body(receive)


async def forward(
    upstream: Upstream,
    scope: Scope,
    receive: Receive,
    send: Send,
    *,
    internal_token: str,
    request_id: str,
    retry_after: int,
) -> None:
    """Send the request to ``upstream`` and stream its answer back to the client."""
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
    started = False
    try:
        body = await _request_body(scope, receive)
        async with upstream.session.request(
            scope["method"],
            url,
            headers=headers,
            data=body,
            allow_redirects=False,
        ) as response:
            response_headers = downstream_response_headers(response.headers.items())
            await send(
                {
                    "type": "http.response.start",
                    "status": response.status,
                    "headers": response_headers,
                }
            )
            started = True
            async for chunk in response.content.iter_any():
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
            await send({"type": "http.response.body", "body": b""})
    except (aiohttp.ClientConnectorError, aiohttp.ServerDisconnectedError) as exc:
        await _fail(
            send,
            started,
            retry_after,
            UpstreamError(
                503,
                "upstream_unavailable",
                "Service unavailable",
                f"The {upstream.name} service cannot be reached; try again later.",
            ),
            exc,
        )
    except (TimeoutError, aiohttp.ServerTimeoutError) as exc:
        await _fail(
            send,
            started,
            retry_after,
            UpstreamError(
                504,
                "upstream_timeout",
                "Gateway timeout",
                f"The {upstream.name} service did not answer in time.",
            ),
            exc,
        )
    except aiohttp.ClientError as exc:
        await _fail(
            send,
            started,
            retry_after,
            UpstreamError(
                502,
                "bad_gateway",
                "Bad gateway",
                f"The {upstream.name} service gave an invalid answer.",
            ),
            exc,
        )


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
