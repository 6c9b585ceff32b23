"""OAuth2 client credentials over real HTTP: the token endpoint, the JWKS, key rotation,
revocation, and the checks every presented token goes through (RFC 6749, RFC 8725).

Each test has its own gateway store (SQLite, and PostgreSQL when configured) and a real
gateway served by uvicorn in front of an upstream double that echoes the principal.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import time
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from gateway.auth.clients import authenticate_client, create_client, revoke_client
from gateway.auth.keys import (
    KeyRing,
    RetireRefusedError,
    SigningKey,
    all_keys,
    create_key,
    load_live_keys,
    retire_key,
    thumbprint,
)
from gateway.auth.oauth import MAX_BODY_BYTES
from gateway.settings import Settings
from gateway_kit import AuthStore
from sqlalchemy import text
from vfu_common.db import Database
from vfu_testing.tokens import mint_internal_token

GatewayClient = Callable[..., Any]
API = "/api/v1/agreements/x"
DEFAULTS = Settings()
GRANT = {"grant_type": "client_credentials"}


# --- helpers ----------------------------------------------------------------------------------


async def _token_response(
    http: httpx.AsyncClient, client_id: str, secret: str, **form: str
) -> httpx.Response:
    return await http.post("/oauth/token", data=GRANT | form, auth=(client_id, secret))


async def _token(http: httpx.AsyncClient, store: AuthStore, **form: str) -> str:
    response = await _token_response(http, store.client_id, store.client_secret, **form)
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def _status(http: httpx.AsyncClient, token: str) -> int:
    return (await http.get(API, headers=_bearer(token))).status_code


async def _eventually(check: Callable[[], Any], *, timeout: float = 5.0) -> None:
    """Await ``check()`` until it is truthy (a replica reloads on its own schedule)."""
    deadline = time.monotonic() + timeout
    while not await check():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.05)


def _assert_oauth_error(response: httpx.Response, status: int, error: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    assert response.json()["error"] == error
    assert response.headers["cache-control"] == "no-store"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _craft(header: dict[str, Any], claims: dict[str, Any], sign: Callable[[bytes], bytes]) -> str:
    """A JWT put together by hand, for what PyJWT refuses to make (HS256 with a PEM key)."""
    signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}"
    return f"{signing_input}.{_b64(sign(signing_input.encode()))}"


async def _live_key(url: str) -> SigningKey:
    db = Database(url)
    try:
        key = KeyRing(await load_live_keys(db)).signing_key()
    finally:
        await db.dispose()
    assert key is not None
    assert key.private_key is not None
    return key


def _claims(store: AuthStore, **changes: Any) -> dict[str, Any]:
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": DEFAULTS.token_issuer,
        "aud": DEFAULTS.token_audience,
        "sub": store.client_id,
        "org": str(store.organisation_id),
        "roles": ["university"],
        "iat": now,
        "nbf": now,
        "exp": now + 300,
        "jti": uuid.uuid4().hex,
    }
    claims.update(changes)
    return {k: v for k, v in claims.items() if v is not None}


def _sign(key: SigningKey, claims: dict[str, Any], **header: Any) -> str:
    assert key.private_key is not None
    headers = {"kid": key.kid, "typ": "at+jwt"} | header
    return jwt.encode(claims, key.private_key, algorithm="EdDSA", headers=headers)


async def _with_db(url: str, action: Callable[[Database], Any]) -> Any:
    db = Database(url)
    try:
        return await action(db)
    finally:
        await db.dispose()


# --- the token endpoint -------------------------------------------------------------------------


async def test_client_credentials_give_a_short_lived_signed_token(
    store: AuthStore, run_gateway: GatewayClient
) -> None:
    async with run_gateway(store.database_url, access_token_ttl_seconds=120) as http:
        response = await _token_response(http, store.client_id, store.client_secret)
        jwks = (await http.get("/.well-known/jwks.json")).json()
        first = response.json()["access_token"]
        second = await _token(http, store)
        proxied = await http.get(API, headers=_bearer(first))

    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["pragma"] == "no-cache"
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 120
    assert body["scope"] == "university"

    header = jwt.get_unverified_header(first)
    assert header["alg"] == "EdDSA"
    assert header["typ"] == "at+jwt"
    (jwk,) = [k for k in jwks["keys"] if k["kid"] == header["kid"]]
    public = jwt.PyJWK(jwk).key
    claims = jwt.decode(first, public, algorithms=["EdDSA"], audience=DEFAULTS.token_audience)
    assert claims["iss"] == DEFAULTS.token_issuer
    assert claims["sub"] == store.client_id
    assert claims["client_id"] == store.client_id
    assert claims["org"] == str(store.organisation_id)
    assert claims["roles"] == ["university"]
    assert claims["exp"] - claims["iat"] == 120
    assert claims["nbf"] == claims["iat"]
    assert claims["jti"] != jwt.decode(second, options={"verify_signature": False})["jti"]

    assert proxied.status_code == 200, proxied.text
    assert proxied.json() == {
        "subject": store.client_id,
        "organisation_id": str(store.organisation_id),
        "roles": ["university"],
    }


async def test_client_may_authenticate_in_the_body(
    store: AuthStore, run_gateway: GatewayClient
) -> None:
    async with run_gateway(store.database_url) as http:
        form = GRANT | {"client_id": store.client_id, "client_secret": store.client_secret}
        response = await http.post("/oauth/token", data=form)
        assert response.status_code == 200, response.text
        assert await _status(http, response.json()["access_token"]) == 200


async def test_basic_credentials_are_form_decoded(
    store: AuthStore, run_gateway: GatewayClient
) -> None:
    """RFC 6749 §2.3.1: id and secret are form-encoded before base64."""
    encoded = base64.b64encode(
        f"{store.client_id.replace('_', '%5F')}:{store.client_secret}".encode()
    ).decode()
    async with run_gateway(store.database_url) as http:
        response = await http.post(
            "/oauth/token", data=GRANT, headers={"Authorization": f"Basic {encoded}"}
        )
    assert response.status_code == 200, response.text


async def test_bad_client_authentication_is_invalid_client(
    store: AuthStore, run_gateway: GatewayClient
) -> None:
    async with run_gateway(store.database_url) as http:
        wrong = await _token_response(http, store.client_id, store.client_secret + "x")
        unknown = await _token_response(http, "vfu_ci_nosuchclient0", store.client_secret)
        # One character off (not "A" when the secret ends in "A": 1 run in 64 then sent the
        # right secret and got a token).
        last = "B" if store.client_secret.endswith("A") else "A"
        other = await _token_response(http, store.client_id, store.client_secret[:-1] + last)
        in_body = await http.post(
            "/oauth/token", data=GRANT | {"client_id": store.client_id, "client_secret": "x"}
        )
        none = await http.post("/oauth/token", data=GRANT)
        bearer = await http.post(
            "/oauth/token", data=GRANT, headers={"Authorization": f"Bearer {store.token}"}
        )
        garbage = await http.post(
            "/oauth/token", data=GRANT, headers={"Authorization": "Basic !!!"}
        )
    for response in (wrong, unknown, other, garbage):
        _assert_oauth_error(response, 401, "invalid_client")
        # §5.2: a client that tried Basic is challenged for Basic.
        assert response.headers["www-authenticate"].startswith("Basic")
    for response in (in_body, none, bearer):
        _assert_oauth_error(response, 401, "invalid_client")
    assert "access_token" not in wrong.text


@pytest.mark.parametrize(
    ("form", "error"),
    [
        ({}, "invalid_request"),
        ({"grant_type": ""}, "invalid_request"),
        ({"grant_type": "password", "username": "u", "password": "p"}, "unsupported_grant_type"),
        ({"grant_type": "authorization_code", "code": "c"}, "unsupported_grant_type"),
        (GRANT | {"scope": "admin"}, "invalid_scope"),
        (GRANT | {"scope": "university admin"}, "invalid_scope"),
        (GRANT | {"scope": ""}, "invalid_scope"),
    ],
)
async def test_bad_token_requests_are_rfc6749_errors(
    auth_store: AuthStore, run_gateway: GatewayClient, form: dict[str, str], error: str
) -> None:
    async with run_gateway(auth_store.database_url) as http:
        response = await http.post(
            "/oauth/token", data=form, auth=(auth_store.client_id, auth_store.client_secret)
        )
    _assert_oauth_error(response, 400, error)


async def test_malformed_token_requests_are_invalid_request(
    auth_store: AuthStore, run_gateway: GatewayClient
) -> None:
    credentials = (auth_store.client_id, auth_store.client_secret)
    async with run_gateway(auth_store.database_url) as http:
        as_json = await http.post("/oauth/token", json=GRANT, auth=credentials)
        repeated = await http.post(
            "/oauth/token",
            content=b"grant_type=client_credentials&grant_type=client_credentials",
            headers={"content-type": "application/x-www-form-urlencoded"},
            auth=credentials,
        )
        two_methods = await http.post(
            "/oauth/token",
            data=GRANT | {"client_id": auth_store.client_id, "client_secret": "s"},
            auth=credentials,
        )
        huge = await http.post(
            "/oauth/token", data=GRANT | {"pad": "x" * MAX_BODY_BYTES}, auth=credentials
        )
        get = await http.get("/oauth/token")
    for response in (as_json, repeated, two_methods, huge):
        _assert_oauth_error(response, 400, "invalid_request")
    assert get.status_code == 405


async def test_scope_narrows_the_token_to_some_of_the_clients_roles(
    store: AuthStore, run_gateway: GatewayClient
) -> None:
    async with run_gateway(store.database_url) as http:
        client, secret = await _with_db(
            store.database_url,
            lambda db: create_client(
                db, name="both", organisation_id=None, roles=["coordinator", "provider"]
            ),
        )
        narrowed = await _token_response(http, client.client_id, secret, scope="provider")
        full = await _token_response(http, client.client_id, secret)
        echoed = await http.get(API, headers=_bearer(narrowed.json()["access_token"]))
    assert narrowed.json()["scope"] == "provider"
    assert full.json()["scope"] == "coordinator provider"
    assert echoed.json()["roles"] == ["provider"]


async def test_secrets_are_stored_only_as_scrypt_hashes(store: AuthStore) -> None:
    async def stored(db: Database) -> list[str]:
        async with db.read() as session:
            rows = await session.execute(text("SELECT secret_hash FROM oauth_clients"))
            return [row[0] for row in rows]

    hashes = await _with_db(store.database_url, stored)
    assert hashes
    for value in hashes:
        assert value.startswith("scrypt$")
        assert store.client_secret not in value
    client = await _with_db(
        store.database_url,
        lambda db: authenticate_client(db, store.client_id, store.client_secret),
    )
    assert client is not None
    assert client.client_id == store.client_id


# --- revocation ---------------------------------------------------------------------------------


async def test_revoked_client_gets_no_token_and_its_tokens_stop_working(
    store: AuthStore, run_gateway: GatewayClient
) -> None:
    async with run_gateway(store.database_url, key_reload_seconds=0.2) as http:
        token = await _token(http, store)
        assert await _status(http, token) == 200
        assert await _with_db(store.database_url, lambda db: revoke_client(db, store.client_id))
        refused = await _token_response(http, store.client_id, store.client_secret)
        _assert_oauth_error(refused, 401, "invalid_client")

        async def token_refused() -> bool:
            return await _status(http, token) == 401

        await _eventually(token_refused)
    assert not await _with_db(store.database_url, lambda db: revoke_client(db, store.client_id))


# --- keys: JWKS and rotation --------------------------------------------------------------------


async def test_jwks_publishes_public_keys_only(
    store: AuthStore, run_gateway: GatewayClient
) -> None:
    async with run_gateway(store.database_url) as http:
        response = await http.get("/.well-known/jwks.json")
        token = await _token(http, store)
    assert response.status_code == 200
    assert "max-age" in response.headers["cache-control"]
    (key,) = response.json()["keys"]
    assert set(key) == {"kty", "crv", "x", "kid", "alg", "use"}  # no "d"
    assert key["kty"] == "OKP"
    assert key["crv"] == "Ed25519"
    assert key["alg"] == "EdDSA"
    assert key["kid"] == jwt.get_unverified_header(token)["kid"]
    assert key["kid"] == thumbprint(jwt.PyJWK(key).key)


async def test_rotation_keeps_old_tokens_valid_until_the_old_key_is_retired(
    store: AuthStore, run_gateway: GatewayClient
) -> None:
    async with run_gateway(store.database_url, key_reload_seconds=0.2) as http:
        old_token = await _token(http, store)
        old_kid = jwt.get_unverified_header(old_token)["kid"]
        new_kid = await _with_db(store.database_url, lambda db: create_key(db))

        async def new_key_signs() -> bool:
            token = await _token(http, store)
            return bool(jwt.get_unverified_header(token)["kid"] == new_kid)

        await _eventually(new_key_signs)
        new_token = await _token(http, store)
        kids = [k["kid"] for k in (await http.get("/.well-known/jwks.json")).json()["keys"]]
        assert kids == [old_kid, new_kid]
        assert await _status(http, old_token) == 200
        assert await _status(http, new_token) == 200

        assert await _with_db(store.database_url, lambda db: retire_key(db, old_kid))

        async def old_token_refused() -> bool:
            return await _status(http, old_token) == 401

        await _eventually(old_token_refused)
        assert await _status(http, new_token) == 200
        kids = [k["kid"] for k in (await http.get("/.well-known/jwks.json")).json()["keys"]]
        assert kids == [new_kid]
    retired = [k for k in await _with_db(store.database_url, all_keys) if k.kid == old_kid]
    assert retired[0].retired_at is not None
    assert retired[0].private_key is None  # erased: it can never sign again


async def test_a_pending_key_is_published_before_it_signs(
    store: AuthStore, run_gateway: GatewayClient
) -> None:
    async with run_gateway(store.database_url, key_reload_seconds=0.2) as http:
        old_kid = jwt.get_unverified_header(await _token(http, store))["kid"]
        pending = await _with_db(
            store.database_url, lambda db: create_key(db, activates_in=timedelta(hours=1))
        )

        async def published() -> bool:
            keys = (await http.get("/.well-known/jwks.json")).json()["keys"]
            return pending in [k["kid"] for k in keys]

        await _eventually(published)
        assert jwt.get_unverified_header(await _token(http, store))["kid"] == old_kid
        # Nothing else can sign for the next hour: the old key may not be retired yet.
        with pytest.raises(RetireRefusedError):
            await _with_db(store.database_url, lambda db: retire_key(db, old_kid))


async def test_a_replica_picks_up_a_rotation_when_it_meets_an_unknown_kid(
    store: AuthStore, run_gateway: GatewayClient
) -> None:
    # Replica B never reloads on a timer here: only an unknown kid can make it reload.
    async with (
        run_gateway(store.database_url, key_reload_seconds=0.2) as a,
        run_gateway(store.database_url, key_reload_seconds=3600, key_reload_floor_seconds=0) as b,
        run_gateway(
            store.database_url, key_reload_seconds=3600, key_reload_floor_seconds=3600
        ) as c,
    ):
        new_kid = await _with_db(store.database_url, lambda db: create_key(db))

        async def a_signs_with_new_key() -> bool:
            return bool(jwt.get_unverified_header(await _token(a, store))["kid"] == new_kid)

        await _eventually(a_signs_with_new_key)
        token = await _token(a, store)
        assert await _status(b, token) == 200
        # C reloaded at start less than its floor ago: it does not reload for a stranger's kid.
        assert await _status(c, token) == 401


# --- what a presented token must be (RFC 8725) ----------------------------------------------------


def _bad_tokens(store: AuthStore, key: SigningKey) -> dict[str, str]:
    """Tokens that must all be refused, each wrong in one way."""
    now = int(time.time())
    public_pem = key.public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    stranger = Ed25519PrivateKey.generate()
    good = _sign(key, _claims(store))
    head, body, signature = good.split(".")
    tampered_claims = _claims(store, roles=["admin"])
    tampered_body = _b64(json.dumps(tampered_claims).encode())
    none_header = {"alg": "none", "kid": key.kid, "typ": "at+jwt"}
    hs_header = {"alg": "HS256", "kid": key.kid, "typ": "at+jwt"}
    return {
        "expired": _sign(key, _claims(store, iat=now - 900, nbf=now - 900, exp=now - 600)),
        "not yet valid": _sign(key, _claims(store, nbf=now + 600)),
        "no exp": _sign(key, _claims(store, exp=None)),
        "wrong aud": _sign(key, _claims(store, aud="urn:other:api")),
        "no aud": _sign(key, _claims(store, aud=None)),
        "wrong iss": _sign(key, _claims(store, iss="urn:someone:else")),
        "no typ": _sign(key, _claims(store), typ=None),
        "id token typ": _sign(key, _claims(store), typ="JWT"),
        "unknown role": _sign(key, _claims(store, roles=["superuser"])),
        "system role": _sign(key, _claims(store, roles=["system"])),
        "tampered payload": f"{head}.{tampered_body}.{signature}",
        "tampered signature": f"{head}.{body}.{signature[:-4]}AAAA",
        "alg none": _craft(none_header, _claims(store), lambda _: b""),
        "HS256 with the public key": _craft(
            hs_header,
            _claims(store),
            lambda data: hmac.new(public_pem, data, hashlib.sha256).digest(),
        ),
        "HS256 with the raw public key": _craft(
            hs_header,
            _claims(store),
            lambda data: hmac.new(
                base64.urlsafe_b64decode(key.jwk["x"] + "="), data, hashlib.sha256
            ).digest(),
        ),
        "unknown kid": jwt.encode(
            _claims(store),
            stranger,
            algorithm="EdDSA",
            headers={"kid": thumbprint(stranger.public_key()), "typ": "at+jwt"},
        ),
        "right kid, other key": jwt.encode(
            _claims(store), stranger, algorithm="EdDSA", headers={"kid": key.kid, "typ": "at+jwt"}
        ),
        "internal identity token": mint_internal_token(roles={"admin"}),
        "not a jwt": "a.b.c",
    }


async def test_tokens_are_refused_unless_every_check_passes(
    auth_store: AuthStore, run_gateway: GatewayClient
) -> None:
    key = await _live_key(auth_store.database_url)
    async with run_gateway(auth_store.database_url) as http:
        # The control: the same construction, nothing wrong, passes.
        assert await _status(http, _sign(key, _claims(auth_store))) == 200
        for case, token in _bad_tokens(auth_store, key).items():
            response = await http.get(API, headers=_bearer(token))
            assert response.status_code == 401, case
            assert response.json()["code"] == "unauthenticated", case
            assert 'error="invalid_token"' in response.headers["www-authenticate"], case


async def test_a_token_verified_once_is_still_checked_for_expiry(
    auth_store: AuthStore, run_gateway: GatewayClient
) -> None:
    key = await _live_key(auth_store.database_url)
    now = int(time.time())
    token = _sign(key, _claims(auth_store, exp=now + 2))
    async with run_gateway(auth_store.database_url, token_leeway_seconds=0) as http:
        assert await _status(http, token) == 200  # verified, and remembered

        async def expired() -> bool:
            return await _status(http, token) == 401

        await _eventually(expired, timeout=6)
