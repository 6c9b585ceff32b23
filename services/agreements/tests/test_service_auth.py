"""The agreements service refuses every call without a valid internal token.

A service reached directly, bypassing the gateway, must not be an open door: each route
and each way a token can be wrong is tried against the real app over HTTP.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import re
import time
import uuid
from typing import Any

import httpx
import jwt
from agreements.main import create_app
from agreements.settings import Settings
from cryptography.hazmat.primitives import serialization
from vfu_common.internal_token import (
    AUDIENCE,
    INTERNAL_HEADER,
    ISSUER,
    generate_keypair,
)
from vfu_common.web.middleware import PUBLIC_PATHS
from vfu_devrun.processes import free_port
from vfu_testing.tokens import identity_headers, mint_internal_token
from vfu_testing.tokens import test_keypair as keypair

PROBLEM = "application/problem+json"
ORGANISATIONS = "/api/v1/agreements/organisations"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": "attacker",
        "org": None,
        "roles": ["admin"],
        "rid": None,
        "iat": now,
        "exp": now + 60,
    }
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not ...}


def _unsigned(header: dict[str, Any], claims: dict[str, Any], signature: bytes = b"") -> str:
    head = _b64(json.dumps(header).encode())
    body = _b64(json.dumps(claims).encode())
    return f"{head}.{body}.{_b64(signature)}"


def _signed_with_test_key(claims: dict[str, Any]) -> str:
    key = serialization.load_pem_private_key(keypair()[0].encode(), password=None)
    return jwt.encode(claims, key, algorithm="EdDSA")  # type: ignore[arg-type]


def _tampered_signature() -> str:
    head, body, signature = mint_internal_token(roles={"admin"}).split(".")
    # A character in the middle: every one of its bits is part of the signature (the last
    # base64 character carries padding bits that decoding may ignore).
    i = len(signature) // 2
    flipped = signature[:i] + ("A" if signature[i] != "A" else "B") + signature[i + 1 :]
    return f"{head}.{body}.{flipped}"


def _tampered_claims() -> str:
    head, body, signature = mint_internal_token(roles={"portal"}).split(".")
    claims = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    claims["roles"] = ["admin"]
    return f"{head}.{_b64(json.dumps(claims).encode())}.{signature}"


def _hs256_with_public_key() -> str:
    # The classic algorithm-confusion attack: HMAC "signed" with the public key.
    header = {"alg": "HS256", "typ": "JWT"}
    signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(_claims()).encode())}"
    mac = hmac.new(keypair()[1].encode(), signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{_b64(mac)}"


def bad_tokens() -> dict[str, str]:
    """Tokens every service must refuse, by what is wrong with them."""
    now = int(time.time())
    return {
        "expired": mint_internal_token(ttl_seconds=-60),
        "other-key": mint_internal_token(private_key_pem=generate_keypair()[0]),
        "tampered-signature": _tampered_signature(),
        "tampered-claims": _tampered_claims(),
        "alg-none": _unsigned({"alg": "none", "typ": "JWT"}, _claims()),
        "alg-none-upper": _unsigned({"alg": "None", "typ": "JWT"}, _claims()),
        "hs256-public-key": _hs256_with_public_key(),
        "wrong-audience": _signed_with_test_key(_claims(aud="other-services")),
        "wrong-issuer": _signed_with_test_key(_claims(iss="someone-else")),
        "no-exp": _signed_with_test_key(_claims(exp=...)),
        "no-sub": _signed_with_test_key(_claims(sub=...)),
        "issued-in-future": _signed_with_test_key(_claims(iat=now + 3600, exp=now + 7200)),
        "unknown-role": _signed_with_test_key(_claims(roles=["superuser"])),
        "bad-organisation": _signed_with_test_key(_claims(org="not-a-uuid")),
        "empty": "",
        "garbage": "not-a-token",
        "three-dots": "a.b.c",
    }


def _concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", str(uuid.uuid4()), path)


def protected_requests(app: Any) -> list[tuple[str, str]]:
    """Every (method, path) of the app except the public health paths, plus unknown paths."""
    requests: set[tuple[str, str]] = {("GET", "/openapi.json"), ("HEAD", "/openapi.json")}
    # The OpenAPI document lists every documented route (health routes are not in it).
    for path, item in app.openapi()["paths"].items():
        assert path not in PUBLIC_PATHS
        for method in item:
            requests.add((method.upper(), _concrete(path)))
    for path in (
        "/nosuch",
        "/api/v1/agreements/nosuch",
        f"{ORGANISATIONS}/not-a-uuid",
        "/docs",
        "/healthz/",
        "/readyz/x",
        "//healthz",
        "/metrics/x",
    ):
        requests.add(("GET", path))
    for method in ("PUT", "PATCH", "DELETE"):
        requests.add((method, f"{ORGANISATIONS}/{uuid.uuid4()}"))
    return sorted(requests)


def _assert_unauthenticated(response: httpx.Response, what: str) -> None:
    assert response.status_code == 401, (what, response.status_code, response.text)
    assert response.headers["content-type"] == PROBLEM, what
    body = response.json()
    assert body["code"] == "unauthenticated", what
    assert body["status"] == 401, what


async def test_every_protected_path_without_a_token_is_401(agreements_service: Any) -> None:
    requests = protected_requests(agreements_service.app)
    # The routes of the app itself are there: the list is not vacuous.
    assert ("POST", ORGANISATIONS) in requests
    assert any(
        method == "GET" and path.startswith(f"{ORGANISATIONS}/") for method, path in requests
    )
    for method, path in requests:
        body = {"organisation_number": "2120000019"} if method in {"POST", "PUT"} else None
        response = await agreements_service.client.request(method, path, json=body)
        if method == "HEAD":
            assert response.status_code == 401, path
            continue
        _assert_unauthenticated(response, f"{method} {path}")


async def test_bad_tokens_are_401(agreements_service: Any) -> None:
    client = agreements_service.client
    for name, token in bad_tokens().items():
        headers = {INTERNAL_HEADER: token}
        response = await client.get(f"{ORGANISATIONS}/{uuid.uuid4()}", headers=headers)
        _assert_unauthenticated(response, name)
        response = await client.post(
            ORGANISATIONS,
            json={"organisation_number": "2120000019", "kind": "municipality", "name": "X"},
            headers=headers,
        )
        _assert_unauthenticated(response, name)
        response = await client.get("/openapi.json", headers=headers)
        _assert_unauthenticated(response, name)


async def test_a_gateway_token_as_bearer_is_not_accepted(agreements_service: Any) -> None:
    # Only the internal header carries identity; Authorization is the gateway's business.
    token = mint_internal_token(roles={"admin"})
    response = await agreements_service.client.get(
        f"{ORGANISATIONS}/{uuid.uuid4()}", headers={"Authorization": f"Bearer {token}"}
    )
    _assert_unauthenticated(response, "bearer")


async def test_a_valid_token_is_let_through(agreements_service: Any) -> None:
    # The control for the tests above: the same requests pass with a good token.
    client = agreements_service.client
    unknown = uuid.uuid4()
    response = await client.get(
        f"{ORGANISATIONS}/{unknown}", headers=identity_headers(roles={"portal"})
    )
    assert response.status_code == 404
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["code"] == "organisation_not_found"
    response = await client.get("/openapi.json", headers=identity_headers(roles={"system"}))
    assert response.status_code == 200
    assert ORGANISATIONS in response.json()["paths"]


async def test_a_token_with_a_short_clock_skew_is_accepted(agreements_service: Any) -> None:
    # Expired two seconds ago: within the verifier's leeway.
    token = mint_internal_token(roles={"admin"}, ttl_seconds=-2)
    response = await agreements_service.client.get(
        f"{ORGANISATIONS}/{uuid.uuid4()}", headers={INTERNAL_HEADER: token}
    )
    assert response.status_code == 404


async def test_health_endpoints_answer_without_a_token(agreements_service: Any) -> None:
    client = agreements_service.client
    response = await client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}

    loop = asyncio.get_running_loop()
    deadline = loop.time() + 10
    while True:
        response = await client.get("/readyz")
        if response.status_code == 200 or loop.time() > deadline:
            break
        assert response.status_code == 503
        assert response.headers["content-type"] == PROBLEM
        assert response.json()["code"] == "not_ready"
        await asyncio.sleep(0.1)
    assert response.status_code == 200, response.text
    assert response.json() == {"status": "ready", "checks": {"database": "ok", "nats": "ok"}}

    response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")


async def test_readyz_is_503_while_nats_is_away(
    database_url: str, serve_app: Any, migrate_service: Any
) -> None:
    await migrate_service("agreements", database_url)
    settings = Settings(
        database_url=database_url,
        nats_url=f"nats://127.0.0.1:{free_port()}",
        internal_public_key=keypair()[1],
        log_level="WARNING",
    )
    async with (
        serve_app(create_app(settings)) as url,
        httpx.AsyncClient(base_url=url, timeout=10) as client,
    ):
        response = await client.get("/readyz")
        assert response.status_code == 503
        assert response.headers["content-type"] == PROBLEM
        assert response.headers["retry-after"].isdigit()
        body = response.json()
        assert body["code"] == "not_ready"
        assert body["checks"] == {"database": "ok", "nats": "disconnected"}
        # HTTP serves while the bus is away, and still refuses calls without a token.
        assert (await client.get("/healthz")).status_code == 200
        _assert_unauthenticated(await client.get(f"{ORGANISATIONS}/{uuid.uuid4()}"), "no bus")
