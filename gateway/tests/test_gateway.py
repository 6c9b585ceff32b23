"""The gateway over real HTTP, in front of small upstream apps served by uvicorn.

The upstreams are test doubles of the services (an echo app, FastAPI apps with their own
OpenAPI documents); the gateway, its aiohttp transport and every socket are real.
"""

import asyncio
import hashlib
import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from gateway.app import create_app
from gateway.headers import (
    HOP_BY_HOP,
    downstream_response_headers,
    is_identity_header,
    upstream_request_headers,
)
from gateway.openapi import merge_documents
from gateway.settings import Settings
from gateway_kit import AuthStore
from pydantic import BaseModel
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from vfu_common.internal_token import (
    INTERNAL_HEADER,
    InternalTokenVerifier,
    InvalidIdentityError,
    generate_keypair,
)
from vfu_common.web.middleware import RequestContextMiddleware
from vfu_devrun.processes import free_port
from vfu_testing.http import serve_together
from vfu_testing.tokens import mint_internal_token
from vfu_testing.tokens import test_keypair as keypair

PROBLEM = "application/problem+json"
RETRY_AFTER = 7
UPSTREAM_TIMEOUT = 0.5
SLOW_SECONDS = 30.0
# The ends of /slow exchanges: "answered" when the upstream reached its answer, "gone" when
# the caller hung up first.
SLOW_ENDS: list[str] = []
ECHO = "/api/v1/agreements"


# --- upstream test doubles ----------------------------------------------------------------


async def _echo(request: Request) -> JSONResponse:
    """Everything the upstream received, so tests can inspect what the gateway sent."""
    body = await request.body()
    try:
        parsed = json.loads(body) if body else None
    except ValueError:
        parsed = None
    return JSONResponse(
        {
            "method": request.method,
            "path": request.url.path,
            "raw_path": request.scope["raw_path"].decode("latin-1"),
            "query_string": request.scope["query_string"].decode("latin-1"),
            "headers": [[k.decode("latin-1"), v.decode("latin-1")] for k, v in request.headers.raw],
            "body_length": len(body),
            "body_sha256": hashlib.sha256(body).hexdigest(),
            "json": parsed,
        },
        status_code=int(request.query_params.get("status", "200")),
        headers={"x-upstream": "echo"},
    )


async def _slow(request: Request) -> JSONResponse:
    """Answers after SLOW_SECONDS, or gives up early once the caller has gone."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + SLOW_SECONDS
    while loop.time() < deadline:
        if await request.is_disconnected():
            SLOW_ENDS.append("gone")
            return JSONResponse({"slow": False})
        await asyncio.sleep(0.05)
    SLOW_ENDS.append("answered")
    return JSONResponse({"slow": True})


def echo_upstream() -> RequestContextMiddleware:
    """A catch-all echo app standing in for the agreements service.

    Wrapped in the same request-context middleware as the real services, so it echoes
    ``X-Request-ID`` in its responses as they do.
    """
    methods = ["GET", "POST", "PUT", "PATCH", "DELETE"]
    app = Starlette(
        routes=[
            Route(f"{ECHO}/slow", _slow, methods=["GET"]),
            Route("/{path:path}", _echo, methods=methods),
        ]
    )
    return RequestContextMiddleware(app)


def agreements_documented() -> FastAPI:
    """A FastAPI upstream whose schemas are called Item and Out."""

    class Item(BaseModel):
        title: str

    class Out(BaseModel):
        item: Item
        count: int

    return _documented_upstream("Agreements", "/api/v1/agreements/items", Out)


def placements_documented() -> FastAPI:
    """Another upstream that also calls its (different) schemas Item and Out."""

    class Item(BaseModel):
        slots: int
        unit: str

    class Out(BaseModel):
        item: Item

    return _documented_upstream("Placements", "/api/v1/placements/items", Out)


def _documented_upstream(title: str, path: str, model: type[BaseModel]) -> FastAPI:
    app = FastAPI(title=title, description=f"{title} description")

    @app.get(path, response_model=model)
    async def read() -> Any:
        raise NotImplementedError

    @app.post(path, response_model=model)
    async def write(body: model) -> Any:  # type: ignore[valid-type]
        return body

    return app


# --- fixtures -------------------------------------------------------------------------------


def _gateway(store: AuthStore, **urls: str) -> Any:
    """A gateway app; services without a URL point at a free port where nothing listens."""
    settings = Settings(
        internal_private_key=keypair()[0],
        database_url=store.database_url,
        agreements_url=urls.get("agreements", f"http://127.0.0.1:{free_port()}"),
        placements_url=urls.get("placements", f"http://127.0.0.1:{free_port()}"),
        supervisors_url=urls.get("supervisors", f"http://127.0.0.1:{free_port()}"),
        upstream_timeout_seconds=UPSTREAM_TIMEOUT,
        connect_timeout_seconds=1.0,
        retry_after_seconds=RETRY_AFTER,
        # Limits have tests of their own (test_gateway_limits.py); here they stay out of the way.
        rate_limit_per_second=10_000,
        rate_limit_burst=10_000,
        log_level="WARNING",
    )
    return create_app(settings)


@pytest.fixture
async def client(serve_app: Any, auth_store: AuthStore) -> AsyncIterator[httpx.AsyncClient]:
    """A client of a gateway whose agreements upstream is the echo app (others down)."""
    async with serve_together() as start:
        upstream = await start(echo_upstream())
        gateway = await start(_gateway(auth_store, agreements=upstream))
        async with httpx.AsyncClient(base_url=gateway, timeout=httpx.Timeout(10.0)) as http:
            yield http


def _assert_problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["code"] == code
    assert body["type"].endswith(code)
    assert "title" in body
    return body


def _received(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    assert response.headers["x-upstream"] == "echo"
    echoed: dict[str, Any] = response.json()
    return echoed


def _values(echoed: dict[str, Any], name: str) -> list[str]:
    return [v for k, v in echoed["headers"] if k == name]


# --- routing and authentication -------------------------------------------------------------


async def test_unknown_api_service_is_404_problem(
    client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    for headers in (auth, {}):
        response = await client.get("/api/v1/nosuch/x", headers=headers)
        body = _assert_problem(response, 404, "not_found")
        assert "/api/v1/nosuch/x" in body["detail"]


async def test_unknown_non_api_path_is_404_problem(
    client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    for path in ("/nosuch", "/api/v2/agreements/x", "/api/v1", "/api/v1/"):
        _assert_problem(await client.get(path, headers=auth), 404, "not_found")


def bad_credentials(store: AuthStore) -> dict[str, str | None]:
    """Authorization values that must not authenticate, near misses of good ones included."""
    token, key = store.token, store.api_key
    return {
        "absent": None,
        "empty": "",
        "scheme-only": "Bearer",
        "wrong": "Bearer wrong-key",
        "basic": f"Basic {token}",
        "token": f"Token {token}",
        "suffix": f"Bearer {token}x",
        "prefix": f"Bearer {token[:-1]}",
        "api-key-suffix": f"Bearer {key}x",
        "api-key-prefix": f"Bearer {key[:-1]}",
        "api-key-other-secret": f"Bearer {key[:-4]}AAAA",
        "client-secret": f"Bearer {store.client_secret}",
        "internal-token": f"Bearer {mint_internal_token(roles={'admin'})}",
    }


async def test_missing_or_invalid_credentials_are_401_problem(
    client: httpx.AsyncClient, auth_store: AuthStore
) -> None:
    for case, authorization in bad_credentials(auth_store).items():
        headers = {} if authorization is None else {"Authorization": authorization}
        for method in ("GET", "POST"):
            response = await client.request(
                method, f"{ECHO}/organisations", json={"a": 1}, headers=headers
            )
            _assert_problem(response, 401, "unauthenticated")
            assert response.headers["www-authenticate"].startswith("Bearer"), case
            assert "x-upstream" not in response.headers, case


async def test_client_identity_header_alone_does_not_authenticate(
    client: httpx.AsyncClient,
) -> None:
    forged = mint_internal_token(roles={"admin"})
    response = await client.get(f"{ECHO}/organisations", headers={INTERNAL_HEADER: forged})
    _assert_problem(response, 401, "unauthenticated")


async def test_bearer_scheme_is_case_insensitive(
    client: httpx.AsyncClient, auth_store: AuthStore
) -> None:
    for credential in (auth_store.token, auth_store.api_key):
        response = await client.get(f"{ECHO}/x", headers={"Authorization": f"bearer {credential}"})
        _received(response)


# --- upstream failures ------------------------------------------------------------------------


async def test_stopped_upstream_is_503_problem_with_retry_after(
    client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    # The fixture points placements at a free port where nothing listens.
    response = await client.get("/api/v1/placements/offers", headers=auth)
    body = _assert_problem(response, 503, "upstream_unavailable")
    assert response.headers["retry-after"] == str(RETRY_AFTER)
    assert "placements" in body["detail"]
    assert "Traceback" not in response.text


async def test_stopped_upstream_with_a_body_is_503_problem(
    client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    response = await client.post("/api/v1/supervisors/x", json={"a": 1}, headers=auth)
    _assert_problem(response, 503, "upstream_unavailable")
    assert response.headers["retry-after"] == str(RETRY_AFTER)


async def test_upstream_that_stops_after_answering_is_503_problem(
    serve_app: Any, auth_store: AuthStore
) -> None:
    auth = auth_store.auth
    port = free_port()
    async with serve_together() as start:
        gateway = await start(_gateway(auth_store, agreements=f"http://127.0.0.1:{port}"))
        async with httpx.AsyncClient(base_url=gateway, timeout=10) as http:
            async with serve_app(echo_upstream(), port=port):
                # Leaves a pooled keep-alive connection to the upstream behind.
                _received(await http.get(f"{ECHO}/x", headers=auth))
            for method in ("GET", "POST"):
                response = await http.request(method, f"{ECHO}/x", json={}, headers=auth)
                _assert_problem(response, 503, "upstream_unavailable")
                assert response.headers["retry-after"] == str(RETRY_AFTER)
            # And the gateway recovers once the upstream is back.
            async with serve_app(echo_upstream(), port=port):
                _received(await http.get(f"{ECHO}/x", headers=auth))


async def test_slow_upstream_is_504_problem_with_retry_after(
    client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    loop = asyncio.get_running_loop()
    started = loop.time()
    response = await client.get(f"{ECHO}/slow", headers=auth)
    elapsed = loop.time() - started
    body = _assert_problem(response, 504, "upstream_timeout")
    assert response.headers["retry-after"] == str(RETRY_AFTER)
    assert "agreements" in body["detail"]
    # The gateway gave up at its own timeout, not when the upstream finally answered.
    assert elapsed >= UPSTREAM_TIMEOUT * 0.8
    # ... and before the upstream answered: it was still working when the 504 came (an
    # order of events, not a timing: the upstream takes SLOW_SECONDS).
    assert "answered" not in SLOW_ENDS


async def test_upstream_errors_pass_through_unchanged(
    client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    response = await client.get(f"{ECHO}/x", params={"status": "418"}, headers=auth)
    assert response.status_code == 418
    assert response.headers["content-type"] == "application/json"
    assert response.json()["path"] == f"{ECHO}/x"


# --- header hygiene and identity ------------------------------------------------------------


async def test_spoofed_identity_and_hop_by_hop_headers_never_reach_upstream(
    client: httpx.AsyncClient, auth: dict[str, str], auth_store: AuthStore
) -> None:
    forged = mint_internal_token(roles={"admin"}, subject="attacker")
    spoofed = {
        **auth,
        "X-VFU-Identity": forged,
        "X-User-Id": "someone-else",
        "X-Organisation-Id": str(uuid.uuid4()),
        "X-Roles": "admin",
        "X-Forwarded-User": "admin",
        "X-Remote-User": "admin",
        "Connection": "x-secret",
        "X-Secret": "hop-by-hop value",
        "Keep-Alive": "timeout=5",
        "TE": "trailers",
        "Cookie": "session=abc",
        "X-Custom": "kept",
    }
    echoed = _received(await client.get(f"{ECHO}/organisations", headers=spoofed))
    names = [name for name, _ in echoed["headers"]]
    for dropped in (
        "x-user-id",
        "x-organisation-id",
        "x-roles",
        "x-forwarded-user",
        "x-remote-user",
        "x-secret",
        "keep-alive",
        "te",
        "authorization",
        "cookie",
    ):
        assert dropped not in names, f"{dropped} reached the upstream"
    assert "x-secret" not in {v for _, v in echoed["headers"] if _ == "connection"}
    assert _values(echoed, "x-custom") == ["kept"]

    tokens = _values(echoed, INTERNAL_HEADER)
    assert len(tokens) == 1
    assert tokens[0] != forged
    principal = InternalTokenVerifier(keypair()[1]).verify(tokens[0])
    assert principal.organisation_id == auth_store.organisation_id
    assert principal.roles == frozenset({"university"})
    assert principal.subject == auth_store.client_id
    assert not any(auth_store.token in value for _, value in echoed["headers"])


async def test_internal_token_is_not_signed_with_another_key(
    client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    echoed = _received(await client.get(f"{ECHO}/x", headers=auth))
    (token,) = _values(echoed, INTERNAL_HEADER)
    with pytest.raises(InvalidIdentityError):
        InternalTokenVerifier(generate_keypair()[1]).verify(token)


async def test_forwarding_headers_are_set_by_the_gateway(
    client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    echoed = _received(await client.get(f"{ECHO}/x", headers=auth))
    assert _values(echoed, "x-forwarded-for") == ["127.0.0.1"]
    assert _values(echoed, "x-forwarded-proto") == ["http"]


async def test_client_forwarding_headers_are_replaced_not_appended(
    client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    # Which address uvicorn reports for a client on 127.0.0.1 that sends X-Forwarded-For
    # depends on its proxy-header settings; either way the upstream gets one value.
    headers = {
        **auth,
        "X-Forwarded-For": "6.6.6.6",
        "X-Forwarded-Host": "evil.example",
        "X-Forwarded-Proto": "gopher",
    }
    echoed = _received(await client.get(f"{ECHO}/x", headers=headers))
    assert len(_values(echoed, "x-forwarded-for")) == 1
    assert _values(echoed, "x-forwarded-proto") == ["http"]
    assert _values(echoed, "x-forwarded-host") == []


def _response_request_ids(response: httpx.Response) -> set[str]:
    # A set: that the header appears once is the subject of its own test.
    return set(response.headers.get_list("x-request-id"))


async def test_well_formed_request_id_is_passed_through_and_echoed(
    client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    request_id = "client-req.42:abc_DEF"
    response = await client.get(f"{ECHO}/x", headers={**auth, "X-Request-ID": request_id})
    echoed = _received(response)
    assert _values(echoed, "x-request-id") == [request_id]
    assert _response_request_ids(response) == {request_id}
    # The header carries it; the token carries the principal only, so one token serves
    # every request of that principal while it is fresh (InternalTokenMinter).
    (token,) = _values(echoed, INTERNAL_HEADER)
    assert InternalTokenVerifier(keypair()[1]).verify(token).request_id is None


MALFORMED_REQUEST_IDS = [None, "bad id!", "x" * 129, "a/b", "<script>", "id\\tab"]


def _is_generated_id(value: str) -> bool:
    return len(value) == 32 and all(c in "0123456789abcdef" for c in value)


def _with_request_id(supplied: str | None, headers: dict[str, str]) -> dict[str, str]:
    return headers if supplied is None else {**headers, "X-Request-ID": supplied}


async def test_absent_or_malformed_request_id_is_not_echoed(
    client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    for supplied in MALFORMED_REQUEST_IDS:
        response = await client.get(f"{ECHO}/x", headers=_with_request_id(supplied, auth))
        _received(response)
        ids = response.headers.get_list("x-request-id")
        assert ids, supplied
        assert all(_is_generated_id(value) for value in ids), (supplied, ids)


async def test_absent_or_malformed_request_id_is_generated_for_gateway_answers(
    client: httpx.AsyncClient,
) -> None:
    seen = set()
    for supplied in MALFORMED_REQUEST_IDS:
        # No credentials: the gateway answers 401 itself.
        response = await client.get(f"{ECHO}/x", headers=_with_request_id(supplied, {}))
        _assert_problem(response, 401, "unauthenticated")
        (generated,) = response.headers.get_list("x-request-id")
        assert _is_generated_id(generated), supplied
        seen.add(generated)
    assert len(seen) == len(MALFORMED_REQUEST_IDS)


@pytest.mark.parametrize("supplied", [None, "bad id!"], ids=["absent", "malformed"])
async def test_generated_request_id_is_the_one_the_upstream_receives(
    client: httpx.AsyncClient, supplied: str | None, auth: dict[str, str]
) -> None:
    response = await client.get(f"{ECHO}/x", headers=_with_request_id(supplied, auth))
    echoed = _received(response)
    (generated,) = _response_request_ids(response)
    assert _is_generated_id(generated)
    assert _values(echoed, "x-request-id") == [generated]
    (token,) = _values(echoed, INTERNAL_HEADER)
    assert InternalTokenVerifier(keypair()[1]).verify(token).request_id is None


async def test_proxied_response_has_exactly_one_request_id(
    client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    response = await client.get(f"{ECHO}/x", headers={**auth, "X-Request-ID": "one"})
    _received(response)
    assert response.headers.get_list("x-request-id") == ["one"]


async def test_request_ids_differ_between_requests(
    client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    first = await client.get(f"{ECHO}/x", headers=auth)
    second = await client.get(f"{ECHO}/x", headers=auth)
    assert _response_request_ids(first) != _response_request_ids(second)


async def test_problem_responses_carry_a_request_id(client: httpx.AsyncClient) -> None:
    response = await client.get(f"{ECHO}/x", headers={"X-Request-ID": "rid-401"})
    _assert_problem(response, 401, "unauthenticated")
    assert response.headers.get_list("x-request-id") == ["rid-401"]


async def test_traceparent_passes_through(client: httpx.AsyncClient, auth: dict[str, str]) -> None:
    traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    echoed = _received(await client.get(f"{ECHO}/x", headers={**auth, "traceparent": traceparent}))
    assert _values(echoed, "traceparent") == [traceparent]


# --- bodies, methods, paths -------------------------------------------------------------------


async def test_json_post_arrives_intact(client: httpx.AsyncClient, auth: dict[str, str]) -> None:
    payload = {"name": "Region Uppsala", "nested": {"list": [1, 2, 3]}, "text": "åäö ✓"}
    response = await client.post(
        f"{ECHO}/organisations",
        params={"dry_run": "true", "tag": "a b"},
        json=payload,
        headers=auth,
    )
    echoed = _received(response)
    assert echoed["method"] == "POST"
    assert echoed["path"] == f"{ECHO}/organisations"
    assert echoed["query_string"] == "dry_run=true&tag=a+b"
    assert echoed["json"] == payload
    assert _values(echoed, "content-type") == ["application/json"]


async def test_methods_are_preserved(client: httpx.AsyncClient, auth: dict[str, str]) -> None:
    for method in ("GET", "PUT", "PATCH", "DELETE"):
        echoed = _received(await client.request(method, f"{ECHO}/things/1", headers=auth))
        assert echoed["method"] == method
        assert echoed["body_length"] == 0


async def test_percent_encoded_path_and_query_arrive_unchanged(
    client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    echoed = _received(
        await client.get(f"{ECHO}/a%20b/%C3%A5?q=%C3%A5%26x&empty=&flag", headers=auth)
    )
    assert echoed["raw_path"] == f"{ECHO}/a%20b/%C3%A5"
    assert echoed["path"] == f"{ECHO}/a b/å"
    assert echoed["query_string"] == "q=%C3%A5%26x&empty=&flag"


async def test_large_body_with_length_arrives_intact(
    client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    body = bytes(range(256)) * 4096  # 1 MiB
    response = await client.post(
        f"{ECHO}/upload", content=body, headers={**auth, "content-type": "application/octet-stream"}
    )
    echoed = _received(response)
    assert echoed["body_length"] == len(body)
    assert echoed["body_sha256"] == hashlib.sha256(body).hexdigest()


async def test_large_streamed_body_arrives_intact(
    client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    chunk = bytes(range(256)) * 256  # 64 KiB
    digest = hashlib.sha256(chunk * 16).hexdigest()

    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(16):
            yield chunk
            await asyncio.sleep(0)

    response = await client.put(
        f"{ECHO}/upload?part=1", content=chunks(), headers={**auth, "content-type": "x/y"}
    )
    echoed = _received(response)
    assert echoed["method"] == "PUT"
    assert echoed["query_string"] == "part=1"
    assert echoed["body_length"] == 16 * len(chunk)
    assert echoed["body_sha256"] == digest


async def test_concurrent_requests_each_get_their_own_answer(
    client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    responses = await asyncio.gather(
        *(
            client.post(f"{ECHO}/n/{i}", json={"i": i}, headers={**auth, "X-Request-ID": f"r{i}"})
            for i in range(30)
        )
    )
    for i, response in enumerate(responses):
        echoed = _received(response)
        assert echoed["path"] == f"{ECHO}/n/{i}"
        assert echoed["json"] == {"i": i}
        assert _response_request_ids(response) == {f"r{i}"}


async def test_proxied_response_has_one_server_header_and_right_length(
    client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    response = await client.get(f"{ECHO}/x", headers=auth)
    _received(response)
    assert len(response.headers.get_list("server")) <= 1
    assert response.headers.get_list("content-length") == [str(len(response.content))]


async def test_proxied_response_has_one_date_header(
    client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    response = await client.get(f"{ECHO}/x", headers=auth)
    _received(response)
    assert len(response.headers.get_list("date")) == 1


# --- health ----------------------------------------------------------------------------------


async def test_healthz_needs_no_credentials(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_readyz_reports_unreachable_upstreams(client: httpx.AsyncClient) -> None:
    response = await client.get("/readyz")
    body = _assert_problem(response, 503, "not_ready")
    assert response.headers["retry-after"] == str(RETRY_AFTER)
    # The echo upstream answers /readyz with 200; the other two are down.
    assert body["checks"]["agreements"] == "ok"
    assert body["checks"]["placements"].startswith("unreachable")
    assert body["checks"]["supervisors"].startswith("unreachable")


# --- aggregated OpenAPI -----------------------------------------------------------------------


async def test_openapi_merges_upstream_documents(serve_app: Any, auth_store: AuthStore) -> None:
    agreements = agreements_documented()
    placements = placements_documented()
    async with serve_together() as start:
        a_url = await start(agreements)
        p_url = await start(placements)
        gateway = await start(_gateway(auth_store, agreements=a_url, placements=p_url))
        async with httpx.AsyncClient(base_url=gateway, timeout=10) as http:
            response = await http.get("/openapi.json")
            again = await http.get("/openapi.json")
    assert again.json() == response.json()

    assert response.status_code == 200
    document = response.json()
    assert document["openapi"].startswith("3.")
    assert set(document["paths"]) == {"/api/v1/agreements/items", "/api/v1/placements/items"}
    assert document["info"]["x-vfu-missing-services"] == ["supervisors"]
    assert [tag["name"] for tag in document["tags"]] == ["agreements", "placements"]

    schemas = document["components"]["schemas"]
    # The first service (in name order) keeps the name; the other is prefixed.
    assert schemas["Item"]["required"] == ["title"]
    assert set(schemas["placements_Item"]["properties"]) == {"slots", "unit"}
    assert schemas["Out"]["properties"]["item"] == {"$ref": "#/components/schemas/Item"}
    assert schemas["placements_Out"]["properties"]["item"] == {
        "$ref": "#/components/schemas/placements_Item"
    }
    # Identical schemas (FastAPI's validation errors) are kept once, unprefixed.
    assert "HTTPValidationError" in schemas
    assert "placements_HTTPValidationError" not in schemas

    def response_ref(path: str, method: str) -> str:
        content = document["paths"][path][method]["responses"]["200"]["content"]
        ref: str = content["application/json"]["schema"]["$ref"]
        return ref

    assert response_ref("/api/v1/agreements/items", "get") == "#/components/schemas/Out"
    assert response_ref("/api/v1/placements/items", "get") == "#/components/schemas/placements_Out"
    body = document["paths"]["/api/v1/placements/items"]["post"]["requestBody"]
    assert body["content"]["application/json"]["schema"]["$ref"].endswith("/placements_Out")
    # Every $ref in the merged document resolves.
    for ref in _refs(document):
        assert ref.removeprefix("#/components/schemas/") in schemas, ref


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return found + [r for v in node.values() for r in _refs(v)]
    if isinstance(node, list):
        return [r for item in node for r in _refs(item)]
    return []


async def test_openapi_fetch_is_authenticated_with_an_internal_token(
    serve_app: Any, auth_store: AuthStore
) -> None:
    seen: list[str | None] = []

    async def openapi(request: Request) -> JSONResponse:
        seen.append(request.headers.get(INTERNAL_HEADER))
        return JSONResponse({"openapi": "3.1.0", "info": {}, "paths": {"/api/v1/x": {}}})

    upstream = Starlette(routes=[Route("/openapi.json", openapi)])
    async with serve_together() as start:
        url = await start(upstream)
        gateway = await start(_gateway(auth_store, agreements=url))
        async with httpx.AsyncClient(base_url=gateway, timeout=10) as http:
            response = await http.get("/openapi.json")
    assert response.status_code == 200
    assert "/api/v1/x" in response.json()["paths"]
    assert len(seen) == 1
    assert seen[0] is not None
    principal = InternalTokenVerifier(keypair()[1]).verify(seen[0])
    assert principal.roles == frozenset({"system"})


# --- unit tests: merge_documents ---------------------------------------------------------------


def _doc(paths: dict[str, Any], schemas: dict[str, Any], description: str = "") -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {"title": "t", "version": "1", "description": description},
        "paths": paths,
        "components": {"schemas": schemas},
    }


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def test_merge_documents_renames_only_clashing_schemas() -> None:
    shared = {"type": "object", "properties": {"code": {"type": "string"}}}
    a = _doc(
        {"/api/v1/a/x": {"get": {"responses": {"200": {"schema": _ref("Item")}}}}},
        {"Item": {"type": "string"}, "Problem": shared},
        "A service",
    )
    b = _doc(
        {"/api/v1/b/y": {"get": {"responses": {"200": {"schema": _ref("Item")}}}}},
        {"Item": {"type": "integer"}, "Problem": shared, "Own": {"items": [_ref("Item")]}},
    )
    before = json.dumps([a, b], sort_keys=True)
    merged = merge_documents({"b": b, "a": a}, title="T", version="9")

    assert json.dumps([a, b], sort_keys=True) == before  # inputs are not mutated
    assert merged["info"]["title"] == "T"
    assert merged["info"]["version"] == "9"
    schemas = merged["components"]["schemas"]
    assert set(schemas) == {"Item", "b_Item", "Problem", "Own"}
    assert schemas["Item"] == {"type": "string"}
    assert schemas["b_Item"] == {"type": "integer"}
    assert schemas["Own"] == {"items": [_ref("b_Item")]}
    assert merged["paths"]["/api/v1/a/x"]["get"]["responses"]["200"]["schema"] == _ref("Item")
    assert merged["paths"]["/api/v1/b/y"]["get"]["responses"]["200"]["schema"] == _ref("b_Item")
    assert merged["tags"] == [
        {"name": "a", "description": "A service"},
        {"name": "b", "description": ""},
    ]
    assert merged["security"] == [{"oauth2": []}, {"bearer": []}]
    schemes = merged["components"]["securitySchemes"]
    assert schemes["bearer"]["scheme"] == "bearer"
    flow = schemes["oauth2"]["flows"]["clientCredentials"]
    assert flow["tokenUrl"] == "/oauth/token"
    assert "system" not in flow["scopes"]
    assert "portal" in flow["scopes"]


def test_merge_documents_leaves_external_refs_alone() -> None:
    external = {"$ref": "https://example.org/schema.json#/Thing"}
    merged = merge_documents(
        {
            "a": _doc({}, {"X": {"type": "string"}}),
            "b": _doc({"/p": {"get": {"schema": external}}}, {"X": {"type": "number"}}),
        },
        title="T",
        version="1",
    )
    assert merged["paths"]["/p"]["get"]["schema"] == external


def test_merge_documents_of_nothing_is_an_empty_document() -> None:
    merged = merge_documents({}, title="T", version="1")
    assert merged["paths"] == {}
    assert merged["components"]["schemas"] == {}
    assert merged["tags"] == []


def test_merge_documents_handles_documents_without_components() -> None:
    merged = merge_documents({"a": {"paths": {"/p": {}}}}, title="T", version="1")
    assert merged["paths"] == {"/p": {}}


def test_merge_documents_keeps_schemas_that_differ_only_through_renamed_refs() -> None:
    a = _doc(
        {"/a": {"get": {"schema": _ref("Wrapper")}}},
        {"Wrapper": {"properties": {"inner": _ref("Inner")}}, "Inner": {"type": "string"}},
    )
    b = _doc(
        {"/b": {"get": {"schema": _ref("Wrapper")}}},
        {"Wrapper": {"properties": {"inner": _ref("Inner")}}, "Inner": {"type": "integer"}},
    )
    merged = merge_documents({"a": a, "b": b}, title="T", version="1")
    schemas = merged["components"]["schemas"]

    def resolve(ref: dict[str, str]) -> Any:
        return schemas[ref["$ref"].removeprefix("#/components/schemas/")]

    a_wrapper = resolve(merged["paths"]["/a"]["get"]["schema"])
    b_wrapper = resolve(merged["paths"]["/b"]["get"]["schema"])
    assert resolve(a_wrapper["properties"]["inner"]) == {"type": "string"}
    assert resolve(b_wrapper["properties"]["inner"]) == {"type": "integer"}


# --- unit tests: headers -----------------------------------------------------------------------


def _raw(*pairs: tuple[str, str]) -> list[tuple[bytes, bytes]]:
    return [(k.encode("latin-1"), v.encode("latin-1")) for k, v in pairs]


def test_upstream_request_headers_keep_ordinary_headers_lower_cased() -> None:
    kept = upstream_request_headers(
        _raw(
            ("Accept", "application/json"),
            ("Content-Type", "application/json"),
            ("traceparent", "00-abc-def-01"),
            ("If-None-Match", '"v1"'),
            ("Idempotency-Key", "k1"),
            ("X-Custom", "a"),
            ("X-Custom", "b"),
        )
    )
    assert kept == [
        ("accept", "application/json"),
        ("content-type", "application/json"),
        ("traceparent", "00-abc-def-01"),
        ("if-none-match", '"v1"'),
        ("idempotency-key", "k1"),
        ("x-custom", "a"),
        ("x-custom", "b"),
    ]


@pytest.mark.parametrize("name", sorted(HOP_BY_HOP))
def test_upstream_request_headers_drop_hop_by_hop(name: str) -> None:
    assert upstream_request_headers(_raw((name, "v"), ("accept", "*/*"))) == [("accept", "*/*")]


def test_upstream_request_headers_drop_headers_named_by_connection() -> None:
    kept = upstream_request_headers(
        _raw(
            ("Connection", "X-Secret, x-other"),
            ("Connection", "keep-alive"),
            ("X-Secret", "1"),
            ("X-OTHER", "2"),
            ("X-Kept", "3"),
        )
    )
    assert kept == [("x-kept", "3")]


@pytest.mark.parametrize(
    "name",
    [
        "X-VFU-Identity",
        "x-vfu-anything",
        "X-User-Id",
        "X-User",
        "X-Organisation-Id",
        "X-Organization-Id",
        "X-Auth-Token",
        "X-Roles",
        "X-Forwarded-User",
        "X-Remote-User",
        "Remote-User",
        "X-Principal",
        "X-Client-Id",
    ],
)
def test_upstream_request_headers_drop_identity_headers(name: str) -> None:
    assert is_identity_header(name.lower())
    assert upstream_request_headers(_raw((name, "admin"))) == []


@pytest.mark.parametrize(
    "name",
    [
        "Host",
        "Authorization",
        "X-Request-ID",
        "X-Forwarded-For",
        "X-Forwarded-Proto",
        "X-Forwarded-Host",
        "Content-Length",
        "Cookie",
    ],
)
def test_upstream_request_headers_drop_headers_the_gateway_sets(name: str) -> None:
    assert upstream_request_headers(_raw((name, "x"))) == []


@pytest.mark.parametrize("name", ["accept", "traceparent", "x-request-idx", "content-type"])
def test_is_identity_header_false_for_ordinary_headers(name: str) -> None:
    assert not is_identity_header(name)


def test_downstream_response_headers_drop_hop_by_hop_connection_tokens_and_server() -> None:
    kept = downstream_response_headers(
        [
            ("Content-Type", "application/json"),
            ("Connection", "close, X-Internal"),
            ("X-Internal", "secret"),
            ("Transfer-Encoding", "chunked"),
            ("Keep-Alive", "timeout=5"),
            ("Server", "uvicorn"),
            ("ETag", '"v1"'),
            ("Set-Cookie", "a=1"),
            ("Set-Cookie", "b=2"),
        ]
    )
    assert kept == [
        (b"content-type", b"application/json"),
        (b"etag", b'"v1"'),
        (b"set-cookie", b"a=1"),
        (b"set-cookie", b"b=2"),
    ]


async def test_one_principal_is_forwarded_with_one_token_while_it_is_fresh(
    client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    """Minting and verifying an Ed25519 token per request cost more than a read; a token
    per principal, reused for half its life, carries the same identity."""
    tokens = set()
    for _ in range(3):
        (token,) = _values(_received(await client.get(f"{ECHO}/x", headers=auth)), INTERNAL_HEADER)
        tokens.add(token)
    assert len(tokens) == 1
