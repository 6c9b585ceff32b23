"""Tokens from an external identity provider, against a real JWKS served over HTTP.

The provider is a small Starlette app served by uvicorn that publishes whatever keys the
test puts in it; the gateway fetches them with PyJWKClient, as it would from Keycloak or
Entra ID.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from gateway.app import create_app
from gateway.auth.external import claim_at, roles_from_claim
from gateway_kit import AuthStore, gateway_settings, identity_echo
from pydantic import ValidationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from vfu_devrun.processes import free_port
from vfu_testing.http import serve_together

ISSUER = "https://idp.example.se/realms/vfu"
AUDIENCE = "vfu-api"
API = "/api/v1/agreements/x"
ORGANISATION = uuid.UUID("0190a0b0-0000-7000-8000-0000000000ee")
SHARED_SECRET = b"a-shared-secret-that-must-never-verify-anything"


class Provider:
    """An identity provider: key pairs, and a JWKS endpoint publishing their public halves."""

    def __init__(self) -> None:
        self.rsa = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.ec = ec.generate_private_key(ec.SECP256R1())
        self.published: list[dict[str, Any]] = [
            self.jwk(self.rsa, "rsa-1", "RS256"),
            self.jwk(self.ec, "ec-1", "ES256"),
            # A symmetric key in the set must be ignored, never used to verify.
            {
                "kty": "oct",
                "kid": "shared",
                "k": base64.urlsafe_b64encode(SHARED_SECRET).rstrip(b"=").decode(),
            },
        ]
        self.fetches = 0

    @staticmethod
    def jwk(key: Any, kid: str, alg: str) -> dict[str, Any]:
        algorithm = jwt.get_algorithm_by_name(alg)
        data: dict[str, Any] = json.loads(algorithm.to_jwk(key.public_key()))
        return data | {"kid": kid, "alg": alg, "use": "sig"}

    def app(self) -> Starlette:
        async def jwks(_request: Request) -> JSONResponse:
            self.fetches += 1
            return JSONResponse({"keys": self.published})

        return Starlette(routes=[Route("/certs", jwks)])

    def token(self, key: Any = None, kid: str = "rsa-1", alg: str = "RS256", **claims: Any) -> str:
        now = int(time.time())
        body: dict[str, Any] = {
            "iss": ISSUER,
            "aud": AUDIENCE,
            "sub": "user-42",
            "iat": now,
            "exp": now + 300,
            "vfu_org": str(ORGANISATION),
            "realm_access": {"roles": ["university", "offline_access"]},
        }
        body.update(claims)
        body = {k: v for k, v in body.items() if v is not None}
        return jwt.encode(body, key or self.rsa, algorithm=alg, headers={"kid": kid})


@asynccontextmanager
async def _gateway(
    store: AuthStore, jwks_url: str, **overrides: Any
) -> AsyncIterator[httpx.AsyncClient]:
    async with serve_together() as start:
        upstream = await start(identity_echo())
        settings = gateway_settings(
            store.database_url,
            upstream,
            external_issuer=ISSUER,
            external_audience=AUDIENCE,
            external_jwks_url=jwks_url,
            external_organisation_claim="vfu_org",
            external_roles_claim="realm_access.roles",
            **({"external_jwks_floor_seconds": 0} | overrides),
        )
        url = await start(create_app(settings))
        async with httpx.AsyncClient(base_url=url, timeout=10) as http:
            yield http


@pytest.fixture
async def provider() -> AsyncIterator[tuple[Provider, str]]:
    idp = Provider()
    async with serve_together() as start:
        url = await start(idp.app())
        yield idp, url + "/certs"


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _craft(header: dict[str, Any], claims: dict[str, Any], sign: Callable[[bytes], bytes]) -> str:
    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    signing_input = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims).encode())}"
    return f"{signing_input}.{b64(sign(signing_input.encode()))}"


async def test_provider_tokens_authenticate_with_mapped_claims(
    auth_store: AuthStore, provider: tuple[Provider, str]
) -> None:
    idp, jwks_url = provider
    async with _gateway(auth_store, jwks_url) as http:
        rsa_answer = await http.get(API, headers=_bearer(idp.token()))
        ec_answer = await http.get(API, headers=_bearer(idp.token(idp.ec, kid="ec-1", alg="ES256")))
        # Our own tokens keep working beside the provider's.
        own = await http.get(API, headers=auth_store.auth)
    assert rsa_answer.status_code == 200, rsa_answer.text
    assert rsa_answer.json() == {
        "subject": "ext:user-42",
        "organisation_id": str(ORGANISATION),
        "roles": ["university"],  # the provider's own "offline_access" is not ours
    }
    assert ec_answer.status_code == 200, ec_answer.text
    assert own.status_code == 200


def _bad_provider_tokens(idp: Provider) -> dict[str, str]:
    now = int(time.time())
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public_pem = idp.rsa.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    claims = jwt.decode(idp.token(), options={"verify_signature": False})
    head, body, signature = idp.token().split(".")
    return {
        "expired": idp.token(iat=now - 900, exp=now - 600),
        "no exp": idp.token(exp=None),
        "wrong aud": idp.token(aud="someone-else"),
        "no aud": idp.token(aud=None),
        "wrong iss": idp.token(iss="https://evil.example/realms/vfu"),
        "tampered signature": f"{head}.{body}.{signature[:-6]}AAAAAA",
        "alg none": jwt.encode(claims, None, algorithm="none", headers={"kid": "rsa-1"}),  # type: ignore[arg-type]
        "HS256 with the public key": _craft(
            {"alg": "HS256", "kid": "rsa-1"},
            claims,
            lambda data: hmac.new(public_pem, data, hashlib.sha256).digest(),
        ),
        "HS256 with the JWKS's oct key": _craft(
            {"alg": "HS256", "kid": "shared"},
            claims,
            lambda data: hmac.new(SHARED_SECRET, data, hashlib.sha256).digest(),
        ),
        "alg not allowed (RS512)": idp.token(alg="RS512"),
        "ES256 under the RSA key's kid": idp.token(idp.ec, kid="rsa-1", alg="ES256"),
        "unknown kid": idp.token(stranger, kid="rsa-9"),
        "right kid, other key": idp.token(stranger, kid="rsa-1"),
        "only foreign roles": idp.token(realm_access={"roles": ["offline_access"]}),
        "system role": idp.token(realm_access={"roles": ["system"]}),
        "no roles claim": idp.token(realm_access=None),
        "organisation not a uuid": idp.token(vfu_org="Region Uppsala"),
    }


async def test_provider_tokens_are_refused_unless_every_check_passes(
    auth_store: AuthStore, provider: tuple[Provider, str]
) -> None:
    idp, jwks_url = provider
    async with _gateway(auth_store, jwks_url) as http:
        for case, token in _bad_provider_tokens(idp).items():
            response = await http.get(API, headers=_bearer(token))
            assert response.status_code == 401, case


async def test_a_new_provider_key_is_fetched_when_a_token_names_it(
    auth_store: AuthStore, provider: tuple[Provider, str]
) -> None:
    idp, jwks_url = provider
    rotated = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    async with (
        _gateway(auth_store, jwks_url) as eager,
        _gateway(auth_store, jwks_url, external_jwks_floor_seconds=3600) as floored,
    ):
        fetches = idp.fetches
        idp.published.append(Provider.jwk(rotated, "rsa-2", "RS256"))
        token = idp.token(rotated, kid="rsa-2")
        assert (await eager.get(API, headers=_bearer(token))).status_code == 200
        assert idp.fetches == fetches + 1
        assert (await eager.get(API, headers=_bearer(token))).status_code == 200
        assert idp.fetches == fetches + 1  # known now: no fetch per request
        # Fetched at start less than its floor ago: an unknown kid does not refetch.
        assert (await floored.get(API, headers=_bearer(token))).status_code == 401
        assert idp.fetches == fetches + 1


async def test_gateway_starts_and_serves_its_own_tokens_while_the_provider_is_down(
    auth_store: AuthStore,
) -> None:
    idp = Provider()
    port = free_port()
    async with _gateway(auth_store, f"http://127.0.0.1:{port}/certs") as http:
        assert (await http.get("/healthz")).status_code == 200
        assert (await http.get(API, headers=auth_store.auth)).status_code == 200
        assert (await http.get(API, headers=_bearer(idp.token()))).status_code == 401


def test_settings_refuse_symmetric_or_no_algorithms_and_half_configurations() -> None:
    complete = {
        "external_issuer": ISSUER,
        "external_audience": AUDIENCE,
        "external_jwks_url": "https://idp.example.se/certs",
    }
    for algorithms in ("HS256", "RS256,none", "RS256,HS512"):
        with pytest.raises(ValidationError):
            gateway_settings(
                "sqlite+aiosqlite://", "http://x", **complete, external_algorithms=algorithms
            )
    for missing in complete:
        partial = {k: v for k, v in complete.items() if k != missing}
        with pytest.raises(ValidationError):
            gateway_settings("sqlite+aiosqlite://", "http://x", **partial)
    gateway_settings("sqlite+aiosqlite://", "http://x", **complete, external_algorithms="PS256")


def test_claim_paths_and_role_values() -> None:
    claims = {"a": {"b": {"c": ["provider"]}}, "roles": "admin portal", "n": 1}
    assert claim_at(claims, "a.b.c") == ["provider"]
    assert claim_at(claims, "a.x.c") is None
    assert claim_at(claims, "n.x") is None
    assert roles_from_claim("admin portal unknown") == {"admin", "portal"}
    assert roles_from_claim(["university", 7, "system"]) == {"university"}
    assert roles_from_claim(None) == frozenset()
    assert roles_from_claim({"university": True}) == frozenset()
