"""HTTP mechanics: problem details, pagination, metrics, log context."""

from __future__ import annotations

import contextvars
import io
import json
import logging
import sqlite3
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from pydantic import BaseModel
from sqlalchemy import text
from vfu_common.db import Database
from vfu_common.errors import ProblemError, install_problem_handlers
from vfu_common.logging import bind_context, configure_logging
from vfu_common.pagination import Page, decode_cursor, encode_cursor
from vfu_common.web.deps import PageDep
from vfu_common.web.health import router as health_router
from vfu_common.web.middleware import RequestContextMiddleware

ITEMS = list(range(1, 12))


class Item(BaseModel):
    n: int


def _app(db: Database | None = None) -> FastAPI:
    app = FastAPI()
    install_problem_handlers(app)
    app.include_router(health_router)

    @app.get("/items")
    async def items(page: PageDep) -> Page[Item]:
        after = int(page.cursor["after"]) if page.cursor else 0
        chosen = [n for n in ITEMS if n > after][: page.limit]
        more = chosen and chosen[-1] < ITEMS[-1]
        return Page(
            items=[Item(n=n) for n in chosen],
            next_cursor=encode_cursor({"after": chosen[-1]}) if more else None,
        )

    @app.get("/conflict")
    async def conflict() -> None:
        raise ProblemError(409, "capacity_exceeded", "Capacity exceeded", "Only 2 places left.")

    @app.get("/crash")
    async def crash() -> None:
        raise RuntimeError("secret internal detail")

    @app.post("/write")
    async def write() -> dict[str, str]:
        assert db is not None
        async with db.write() as session:
            await session.execute(text("INSERT INTO t VALUES (1)"))
        return {"status": "written"}

    app.add_middleware(RequestContextMiddleware)
    return app


def _client(app: FastAPI) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    return httpx.AsyncClient(transport=transport, base_url="http://t")


async def test_pages_walk_the_whole_list_once() -> None:
    seen: list[int] = []
    cursor = None
    async with _client(_app()) as client:
        for _ in range(10):
            params = {"limit": "4", **({"cursor": cursor} if cursor else {})}
            body = (await client.get("/items", params=params)).json()
            seen += [item["n"] for item in body["items"]]
            cursor = body.get("next_cursor")
            if cursor is None:
                break
    assert seen == ITEMS


@pytest.mark.parametrize("limit", ["0", "201", "-1", "x"])
async def test_limit_outside_the_cap_is_a_validation_problem(limit: str) -> None:
    async with _client(_app()) as client:
        response = await client.get("/items", params={"limit": limit})
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "validation_error"


async def test_tampered_cursor_is_a_400_problem() -> None:
    async with _client(_app()) as client:
        response = await client.get("/items", params={"cursor": "!!not-a-cursor"})
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_cursor"


def test_cursor_round_trip() -> None:
    assert decode_cursor(encode_cursor({"after": "2026-01-01", "id": 3})) == {
        "after": "2026-01-01",
        "id": 3,
    }


async def test_problem_error_renders_with_stable_code() -> None:
    async with _client(_app()) as client:
        response = await client.get("/conflict")
    assert response.status_code == 409
    assert response.json() == {
        "type": "urn:vfu:problem:capacity_exceeded",
        "title": "Capacity exceeded",
        "status": 409,
        "code": "capacity_exceeded",
        "detail": "Only 2 places left.",
        "instance": "/conflict",
    }


async def test_unhandled_error_is_500_problem_without_internals() -> None:
    async with _client(_app()) as client:
        response = await client.get("/crash")
    assert response.status_code == 500
    assert response.json()["code"] == "internal_error"
    assert "secret" not in response.text
    assert "Traceback" not in response.text


async def test_unknown_route_is_404_problem() -> None:
    async with _client(_app()) as client:
        response = await client.get("/nowhere")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


async def test_locked_sqlite_is_503_with_retry_after(tmp_path: Path) -> None:
    path = tmp_path / "busy.db"
    setup = sqlite3.connect(path)
    setup.execute("CREATE TABLE t (x INTEGER)")
    setup.commit()
    db = Database(f"sqlite+aiosqlite:///{path}", busy_timeout_ms=100)
    blocker = sqlite3.connect(path, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")  # another writer holds the lock
    try:
        async with _client(_app(db)) as client:
            response = await client.post("/write")
        assert response.status_code == 503
        assert response.headers["retry-after"] == "1"
        assert response.json()["code"] == "database_busy"
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
        setup.close()
        await db.dispose()


async def test_metrics_count_requests_by_route() -> None:
    async with _client(_app()) as client:
        await client.get("/conflict")
        metrics = (await client.get("/metrics")).text
    assert 'vfu_http_requests_total{method="GET",route="/conflict",status="409"}' in metrics


async def test_request_id_is_echoed_or_generated() -> None:
    async with _client(_app()) as client:
        echoed = await client.get("/conflict", headers={"X-Request-ID": "abc-123"})
        generated = await client.get("/conflict", headers={"X-Request-ID": "bad id\x7f"})
    assert echoed.headers["x-request-id"] == "abc-123"
    assert generated.headers["x-request-id"] not in ("", "bad id\x7f")
    assert len(generated.headers.get_list("x-request-id")) == 1


def test_log_lines_are_json_with_request_correlation_and_trace_ids(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    out = io.StringIO()
    monkeypatch.setattr("sys.stdout", out)
    configure_logging("INFO", service="test")

    def log_in_a_request() -> None:
        bind_context(
            request_id="r-1",
            correlation_id="c-1",
            traceparent="00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
        )
        logging.getLogger("vfu.test").info("booked %d places", 3)

    # In a copy of the context: bound in the test's own (a synchronous test runs in the
    # worker's main context), the ids would label every later test's tasks.
    contextvars.copy_context().run(log_in_a_request)
    line = json.loads(out.getvalue().strip().splitlines()[-1])
    assert line["event"] == "booked 3 places"
    assert line["request_id"] == "r-1"
    assert line["correlation_id"] == "c-1"
    assert line["trace_id"] == "0af7651916cd43dd8448eb211c80319c"
    assert line["service"] == "test"
    assert line["level"] == "info"


async def test_websocket_scopes_are_closed_without_reaching_the_app() -> None:
    from vfu_common.internal_token import InternalTokenVerifier
    from vfu_common.web.middleware import InternalIdentityMiddleware
    from vfu_testing.tokens import test_keypair

    reached: list[str] = []

    async def app(scope: object, receive: object, send: object) -> None:
        reached.append("app")

    sent: list[dict[str, object]] = []

    async def send(message: dict[str, object]) -> None:
        sent.append(message)

    async def receive() -> dict[str, object]:
        return {"type": "websocket.connect"}

    guard = InternalIdentityMiddleware(app, InternalTokenVerifier(test_keypair()[1]))
    await guard({"type": "websocket", "path": "/api/v1/x", "headers": []}, receive, send)
    assert reached == []
    assert sent == [{"type": "websocket.close", "code": 1008}]
