"""The audit middleware and table on a small app: outcomes, object ids, failures, triggers."""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, status
from fastapi.responses import StreamingResponse
from pydantic import BaseModel
from sqlalchemy import select, text
from vfu_common.audit.middleware import MAX_BUFFERED_BODY, AuditMiddleware, outcome_of
from vfu_common.audit.tables import append_only_ddl, audit_log
from vfu_common.audit.tables import metadata as audit_metadata
from vfu_common.db import Database
from vfu_common.errors import ProblemError, install_problem_handlers
from vfu_common.internal_token import InternalTokenVerifier
from vfu_common.uuid7 import new_id
from vfu_common.web.middleware import InternalIdentityMiddleware, RequestContextMiddleware
from vfu_testing.tokens import identity_headers, test_keypair

ORG = uuid.UUID("0190c3a0-0000-7000-8000-000000000001")


class Thing(BaseModel):
    id: uuid.UUID
    name: str


@pytest.fixture
async def audit_db(database_url: str) -> AsyncIterator[Database]:
    """A Database holding audit_log with its append-only triggers."""
    database = Database(database_url)
    async with database.write_engine.begin() as conn:
        await conn.run_sync(audit_metadata.create_all)
        for statement in append_only_ddl(conn.dialect.name):
            await conn.exec_driver_sql(statement)
    yield database
    await database.dispose()


def _app(db: Database) -> FastAPI:
    app = FastAPI()
    install_problem_handlers(app)
    app.state.runtime = SimpleNamespace(db=db)

    @app.post("/things", status_code=status.HTTP_201_CREATED)
    async def create() -> Thing:
        return Thing(id=new_id(), name="a thing")

    @app.post("/big", status_code=status.HTTP_201_CREATED)
    async def big() -> StreamingResponse:
        chunks = [b'{"id": "big-1", "pad": "', b"x" * MAX_BUFFERED_BODY, b'"}']
        return StreamingResponse(iter(chunks), status_code=201, media_type="application/json")

    @app.post("/stream", status_code=status.HTTP_201_CREATED)
    async def stream() -> StreamingResponse:
        chunks = [b'{"id": "streamed', b'-1", "n": 1}']
        return StreamingResponse(iter(chunks), status_code=201, media_type="application/json")

    @app.put("/things/{thing_id}")
    async def replace(thing_id: uuid.UUID) -> Thing:
        return Thing(id=thing_id, name="replaced")

    @app.delete("/things/{thing_id}", status_code=status.HTTP_204_NO_CONTENT)
    async def delete(thing_id: str) -> None:
        raise ProblemError(409, "in_use", "In use")

    @app.patch("/things/{thing_id}")
    async def crash(thing_id: str) -> None:
        raise RuntimeError("boom")

    @app.get("/things")
    async def read() -> list[Thing]:
        return []

    app.add_middleware(AuditMiddleware)
    app.add_middleware(
        InternalIdentityMiddleware, verifier=InternalTokenVerifier(test_keypair()[1])
    )
    app.add_middleware(RequestContextMiddleware)
    return app


def _client(app: FastAPI) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    return httpx.AsyncClient(transport=transport, base_url="http://test")


def _headers(request_id: str, **identity: Any) -> dict[str, str]:
    identity.setdefault("roles", {"university"})
    identity.setdefault("organisation_id", ORG)
    return {**identity_headers(**identity), "X-Request-ID": request_id}


async def _records(db: Database) -> list[Any]:
    async with db.read() as session:
        stmt = select(audit_log).order_by(audit_log.c.occurred_at, audit_log.c.id)
        return list((await session.execute(stmt)).all())


def test_outcome_follows_the_status_class() -> None:
    assert [outcome_of(s) for s in (200, 201, 204, 400, 403, 422, 500, 503)] == [
        "succeeded",
        "succeeded",
        "succeeded",
        "refused",
        "refused",
        "refused",
        "failed",
        "failed",
    ]


async def test_created_object_id_is_read_from_the_201_body(audit_db: Database) -> None:
    async with _client(_app(audit_db)) as client:
        response = await client.post("/things", headers=_headers("create-1", subject="alice"))
    assert response.status_code == 201
    (record,) = await _records(audit_db)
    assert record.object_id == response.json()["id"]
    assert (record.subject, record.organisation_id, record.roles) == ("alice", ORG, "university")
    assert (record.method, record.route, record.status) == ("POST", "/things", 201)
    assert (record.outcome, record.request_id) == ("succeeded", "create-1")


async def test_path_id_names_the_object_and_refusals_are_recorded(audit_db: Database) -> None:
    thing = str(new_id())
    async with _client(_app(audit_db)) as client:
        replaced = await client.put(f"/things/{thing}", headers=_headers("put-1"))
        refused = await client.delete(f"/things/{thing}", headers=_headers("delete-1"))
        invalid = await client.put("/things/not-a-uuid", headers=_headers("put-2"))
    assert (replaced.status_code, refused.status_code, invalid.status_code) == (200, 409, 422)
    put, delete, bad = await _records(audit_db)
    assert (put.route, put.object_id, put.outcome) == ("/things/{thing_id}", thing, "succeeded")
    assert (delete.status, delete.outcome, delete.object_id) == (409, "refused", thing)
    assert (bad.status, bad.outcome, bad.object_id) == (422, "refused", "not-a-uuid")


async def test_unhandled_error_is_recorded_as_failed(audit_db: Database) -> None:
    async with _client(_app(audit_db)) as client:
        response = await client.patch("/things/t-1", headers=_headers("patch-1"))
    assert response.status_code == 500
    (record,) = await _records(audit_db)
    assert (record.status, record.outcome, record.object_id) == (500, "failed", "t-1")


async def test_large_and_streamed_created_bodies_reach_the_client_whole(
    audit_db: Database,
) -> None:
    async with _client(_app(audit_db)) as client:
        big = await client.post("/big", headers=_headers("big-1"))
        streamed = await client.post("/stream", headers=_headers("stream-1"))
    assert big.status_code == 201
    assert len(big.json()["pad"]) == MAX_BUFFERED_BODY
    assert streamed.json() == {"id": "streamed-1", "n": 1}
    big_record, streamed_record = await _records(audit_db)
    # Streamed past the buffer cap: recorded without the id rather than held in memory.
    assert big_record.object_id is None
    assert streamed_record.object_id == "streamed-1"


async def test_reads_unauthenticated_and_unrouted_requests_are_not_recorded(
    audit_db: Database,
) -> None:
    async with _client(_app(audit_db)) as client:
        assert (await client.get("/things", headers=_headers("get-1"))).status_code == 200
        assert (await client.post("/things")).status_code == 401
        assert (await client.post("/nowhere", headers=_headers("post-1"))).status_code == 404
    assert await _records(audit_db) == []


async def test_a_failed_audit_write_is_logged_in_full_and_the_answer_still_sent(
    tmp_path: Any, caplog: pytest.LogCaptureFixture
) -> None:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'no-audit-table.db'}")
    try:
        with caplog.at_level(logging.ERROR, logger="vfu_common.audit.middleware"):
            async with _client(_app(db)) as client:
                response = await client.post("/things", headers=_headers("lost-1"))
    finally:
        await db.dispose()
    assert response.status_code == 201
    (log,) = [r for r in caplog.records if r.name == "vfu_common.audit.middleware"]
    message = log.getMessage()
    assert "audit record not written" in message
    assert response.json()["id"] in message
    assert '"request_id": "lost-1"' in message
    assert '"outcome": "succeeded"' in message


@pytest.mark.parametrize(
    "statement", ["UPDATE audit_log SET status = 200", "DELETE FROM audit_log"]
)
async def test_the_database_refuses_to_change_audit_records(
    audit_db: Database, statement: str
) -> None:
    async with _client(_app(audit_db)) as client:
        await client.post("/things", headers=_headers("keep-1"))
    with pytest.raises(Exception, match="append-only"):
        async with audit_db.write_engine.begin() as conn:
            await conn.execute(text(statement))
    (record,) = await _records(audit_db)
    assert record.status == 201
