"""Minimal forwarding proxies: the yardsticks for the gateway's transport choice.

``python bench/forwarders.py --transport {httpx,httpx-aiohttp,aiohttp} --upstream URL
--port P``

Each is a raw ASGI app under uvicorn with uvloop and httptools (as the gateway runs) that
forwards every request to ``--upstream`` and streams the answer back. They authenticate
nothing, mint nothing and filter almost no headers, so the client sends the internal
identity token itself. What differs between them is only the HTTP client transport:

* ``httpx``         httpx.AsyncClient with its default transport (httpcore)
* ``httpx-aiohttp`` httpx.AsyncClient with httpx_aiohttp.AiohttpTransport
* ``aiohttp``       a bare aiohttp.ClientSession (what gateway/proxy.py uses)

The pool holds 100 connections in every case (the gateway's default pool_size); httpx's
keep-alive limit is raised to match, otherwise it closes connections beyond 20.
"""

from __future__ import annotations

import argparse
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import uvicorn

POOL = 100
_DROP_REQUEST = frozenset({b"host", b"connection", b"keep-alive", b"content-length"})
_DROP_RESPONSE = frozenset({"connection", "keep-alive", "transfer-encoding", "server", "date"})

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


async def _read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)


def _target(upstream: str, scope: Scope) -> str:
    path: str = (scope.get("raw_path") or scope["path"].encode()).decode("latin-1")
    query = scope.get("query_string", b"")
    return upstream + path + ("?" + query.decode("latin-1") if query else "")


def _request_headers(scope: Scope) -> list[tuple[str, str]]:
    return [
        (k.decode("latin-1"), v.decode("latin-1"))
        for k, v in scope["headers"]
        if k not in _DROP_REQUEST
    ]


def _response_headers(items: Any) -> list[tuple[bytes, bytes]]:
    return [
        (k.lower().encode("latin-1"), v.encode("latin-1"))
        for k, v in items
        if k.lower() not in _DROP_RESPONSE
    ]


class Forwarder:
    """The ASGI app; ``open``/``close`` run in uvicorn's lifespan."""

    def __init__(self, transport: str, upstream: str) -> None:
        self.transport = transport
        self.upstream = upstream.rstrip("/")
        self.client: Any = None

    async def open(self) -> None:
        if self.transport == "aiohttp":
            import aiohttp

            self.client = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=POOL),
                auto_decompress=False,
                skip_auto_headers=("User-Agent",),
            )
            return
        import httpx

        limits = httpx.Limits(max_connections=POOL, max_keepalive_connections=POOL)
        if self.transport == "httpx":
            self.client = httpx.AsyncClient(limits=limits, timeout=10.0)
        elif self.transport == "httpx-aiohttp":
            from httpx_aiohttp import AiohttpTransport

            self.client = httpx.AsyncClient(transport=AiohttpTransport(limits=limits), timeout=10.0)
        else:
            raise ValueError(f"unknown transport {self.transport!r}")

    async def close(self) -> None:
        if self.client is None:
            return
        if self.transport == "aiohttp":
            await self.client.close()
        else:
            await self.client.aclose()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        body = await _read_body(receive)
        url = _target(self.upstream, scope)
        headers = _request_headers(scope)
        if self.transport == "aiohttp":
            async with self.client.request(
                scope["method"], url, headers=headers, data=body or None, allow_redirects=False
            ) as response:
                await self._relay(
                    send, response.status, response.headers.items(), response.content.iter_any()
                )
            return
        request = self.client.build_request(
            scope["method"], url, headers=headers, content=body or None
        )
        response = await self.client.send(request, stream=True)
        try:
            await self._relay(
                send, response.status_code, response.headers.multi_items(), response.aiter_raw()
            )
        finally:
            await response.aclose()

    @staticmethod
    async def _relay(send: Send, status: int, headers: Any, chunks: AsyncIterator[bytes]) -> None:
        await send(
            {"type": "http.response.start", "status": status, "headers": _response_headers(headers)}
        )
        async for chunk in chunks:
            if chunk:
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
        await send({"type": "http.response.body", "body": b""})

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    await self.open()
                except Exception as exc:
                    await send({"type": "lifespan.startup.failed", "message": repr(exc)})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.close()
                await send({"type": "lifespan.shutdown.complete"})
                return


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--transport", required=True, choices=["httpx", "httpx-aiohttp", "aiohttp"])
    parser.add_argument("--upstream", required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    uvicorn.run(
        Forwarder(args.transport, args.upstream),
        host=args.host,
        port=args.port,
        loop="uvloop",
        http="httptools",
        lifespan="on",
        log_config=None,
        access_log=False,
    )


if __name__ == "__main__":
    main()
