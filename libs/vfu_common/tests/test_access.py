"""The access matrix: completeness at start-up and the role check in front of operations."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from pydantic import BaseModel
from vfu_common.access import allow, enforce_access_matrix, everyone
from vfu_common.errors import install_problem_handlers
from vfu_common.internal_token import InternalTokenVerifier
from vfu_common.web.middleware import InternalIdentityMiddleware
from vfu_testing.tokens import identity_headers
from vfu_testing.tokens import test_keypair as keypair

API = "/api/v1/things"


class Thing(BaseModel):
    name: str


def _app() -> FastAPI:
    app = FastAPI()
    install_problem_handlers(app)

    @app.get(API + "/{thing_id}")
    async def read(thing_id: str) -> dict[str, str]:
        return {"read": thing_id}

    @app.post(API + "/import")
    async def import_things() -> dict[str, str]:
        return {"imported": "yes"}

    @app.post(API + "/{thing_id}")
    async def change(thing_id: str, body: Thing) -> dict[str, str]:
        return {"changed": thing_id, "name": body.name}

    return app


MATRIX = {
    f"GET {API}/{{thing_id}}": everyone(),
    f"POST {API}/import": allow("admin"),
    f"POST {API}/{{thing_id}}": allow("provider"),
}


def _guarded(matrix: dict[str, Any]) -> FastAPI:
    app = _app()
    enforce_access_matrix(app, matrix)
    # As in create_service_app: the identity middleware runs outside the role check.
    app.add_middleware(InternalIdentityMiddleware, verifier=InternalTokenVerifier(keypair()[1]))
    return app


def _client(app: FastAPI) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    return httpx.AsyncClient(transport=transport, base_url="http://t")


def test_an_operation_without_an_entry_refuses_to_build() -> None:
    partial = {k: v for k, v in MATRIX.items() if not k.startswith("POST")}
    with pytest.raises(RuntimeError, match=r"without an access-matrix entry.*POST"):
        enforce_access_matrix(_app(), partial)


def test_an_entry_without_an_operation_refuses_to_build() -> None:
    stale = MATRIX | {f"DELETE {API}/{{thing_id}}": allow("admin")}
    with pytest.raises(RuntimeError, match="entries without an operation"):
        enforce_access_matrix(_app(), stale)


def test_unknown_roles_are_refused_in_the_table() -> None:
    with pytest.raises(ValueError, match="unknown roles"):
        allow("student")


async def test_a_caller_without_the_role_gets_403_before_the_body_is_validated() -> None:
    async with _client(_guarded(MATRIX)) as client:
        refused = await client.post(
            f"{API}/7", content=b"not json", headers=identity_headers(roles={"university"})
        )
        allowed = await client.post(
            f"{API}/7", json={"name": "x"}, headers=identity_headers(roles={"provider"})
        )
        invalid = await client.post(
            f"{API}/7", json={}, headers=identity_headers(roles={"provider"})
        )
    assert refused.status_code == 403
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["code"] == "forbidden"
    assert "provider" in refused.json()["detail"]
    assert allowed.status_code == 200, allowed.text
    assert invalid.status_code == 422


async def test_a_literal_path_takes_its_own_entry_not_the_templated_one() -> None:
    async with _client(_guarded(MATRIX)) as client:
        as_provider = await client.post(
            f"{API}/import", headers=identity_headers(roles={"provider"})
        )
        as_admin = await client.post(f"{API}/import", headers=identity_headers(roles={"admin"}))
    assert as_provider.status_code == 403
    assert as_admin.json() == {"imported": "yes"}


async def test_every_role_may_call_an_everyone_operation() -> None:
    async with _client(_guarded(MATRIX)) as client:
        for role in ("portal", "university", "provider", "coordinator", "admin"):
            response = await client.get(f"{API}/1", headers=identity_headers(roles={role}))
            assert response.status_code == 200, (role, response.text)
