"""Every operation of the gateway's aggregated OpenAPI, called as every role and as broken
credentials, against the services' access matrices.

The operations come from the running gateway's ``/openapi.json``, the expectations from
the matrices in code (each service's ``ACCESS`` plus ``shared_access``). One test per
caller walks every operation as a subtest named ``METHOD /path``, so a failure names the
operation and the caller, and one wrong answer does not hide the others.

Expected, for every ``/api/`` operation:

- an operation without a matrix entry fails (and so does an entry without an operation);
- no credential, an expired token, a token for another audience, a token whose signature
  or payload was altered, a token signed by a key the gateway does not know: 401
  ``unauthenticated`` with a Bearer challenge;
- a role the matrix does not permit: 403 ``forbidden`` (the role check, before the body);
- a role the matrix permits: never 401, 403 or 5xx. The request names a random object and
  sends ``{}`` as the body, so the answer is exact: 422 when that request is invalid by
  the schema (a required query parameter missing, a body ``{}`` does not satisfy), else
  404 for an operation on an object (it does not exist), else 200 for a list;
- every 4xx is problem+json.
"""

from __future__ import annotations

import asyncio
import base64
import json
import time
import uuid
from dataclasses import dataclass
from typing import Any

import httpx
import jwt
import pytest
from agreements.access_matrix import ACCESS as AGREEMENTS_ACCESS
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from gateway.auth.keys import load_live_keys, thumbprint
from gateway.auth.tokens import TOKEN_TYPE
from gateway.settings import Settings
from placements.access_matrix import ACCESS as PLACEMENTS_ACCESS
from supervisors.access_matrix import ACCESS as SUPERVISORS_ACCESS
from vfu_common.access import Access, shared_access
from vfu_common.db import Database

pytestmark = pytest.mark.e2e
SYSTEM_WITH_DEMO_DATA = False

ROLES = ("admin", "coordinator", "university", "provider", "portal")
BROKEN = (
    "anonymous",
    "expired",
    "wrong_audience",
    "tampered_signature",
    "tampered_payload",
    "unknown_key",
)
MATRIX: dict[str, Access] = {
    **shared_access("agreements"),
    **AGREEMENTS_ACCESS,
    **shared_access("placements"),
    **PLACEMENTS_ACCESS,
    **shared_access("supervisors"),
    **SUPERVISORS_ACCESS,
}
_METHODS = ("get", "put", "post", "delete", "patch")
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


@dataclass(frozen=True)
class Operation:
    """One operation of the OpenAPI document and what a request of ours does to it."""

    method: str
    path: str
    path_params: dict[str, dict[str, Any]]
    # True when our request (no query parameters, body {}) is invalid by the schema.
    invalid_request: bool

    @property
    def key(self) -> str:
        """``"METHOD /path"``, as in the matrices."""
        return f"{self.method} {self.path}"

    @property
    def is_list(self) -> bool:
        """A GET on a collection: no object in the path, no required query parameter."""
        return self.method == "GET" and not self.path_params and not self.invalid_request

    def url(self) -> str:
        """The path with each parameter filled by a value of its type (a random uuid)."""
        path = self.path
        for name, schema in self.path_params.items():
            path = path.replace("{" + name + "}", _sample(schema))
        return path

    def expected_when_permitted(self) -> frozenset[int]:
        """The status a permitted role gets for our request."""
        if self.invalid_request:
            return frozenset({422})
        if self.path_params:
            return frozenset({404})  # a random id: no such object
        if self.is_list:
            return frozenset({200})
        return frozenset({200, 201, 202, 204})  # an action whose body may be empty


def _sample(schema: dict[str, Any]) -> str:
    if schema.get("type") == "integer":
        return "987654321"
    if schema.get("format") == "uuid" or "type" not in schema:
        return str(uuid.uuid4())
    return "no-such-object"


def _resolve(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        schema = document["components"]["schemas"][name]
    return schema


def _body_invalid(document: dict[str, Any], operation: dict[str, Any]) -> bool:
    """True when ``{}`` as JSON does not satisfy the operation's request body."""
    body = operation.get("requestBody")
    if body is None:
        return False
    content = body.get("content", {})
    if "application/json" not in content:
        return True  # a form or a file: JSON is the wrong kind of body
    schema = _resolve(document, content["application/json"].get("schema", {}))
    branches = schema.get("anyOf") or schema.get("oneOf")
    if branches:  # e.g. an optional body: Model | None
        return all(_resolve(document, b).get("required") for b in branches)
    return bool(schema.get("required")) or schema.get("type") not in (None, "object")


def operations_of(document: dict[str, Any]) -> list[Operation]:
    """Every ``/api/`` operation of an OpenAPI document."""
    found = []
    for path, item in document["paths"].items():
        if not path.startswith("/api/"):
            continue
        for method in _METHODS:
            if method not in item:
                continue
            operation = item[method]
            parameters = [*item.get("parameters", []), *operation.get("parameters", [])]
            path_params = {p["name"]: p.get("schema", {}) for p in parameters if p["in"] == "path"}
            required_query = any(p["in"] == "query" and p.get("required") for p in parameters)
            found.append(
                Operation(
                    method=method.upper(),
                    path=path,
                    path_params=path_params,
                    invalid_request=required_query or _body_invalid(document, operation),
                )
            )
    return found


# --- credentials -------------------------------------------------------------------------


@dataclass(frozen=True)
class Forger:
    """Makes access tokens as the gateway would, so that each broken one differs from a
    valid token in exactly the one way it is broken."""

    kid: str
    key: Ed25519PrivateKey
    issuer: str
    audience: str

    def token(
        self,
        *,
        roles: tuple[str, ...] = ("admin",),
        lifetime: int = 600,
        age: int = 0,
        audience: str | None = None,
        key: Ed25519PrivateKey | None = None,
        kid: str | None = None,
    ) -> str:
        now = int(time.time()) - age
        claims = {
            "iss": self.issuer,
            "aud": audience or self.audience,
            "sub": "vfu_ci_accesstest",
            "client_id": "vfu_ci_accesstest",
            "org": None,
            "roles": list(roles),
            "iat": now,
            "nbf": now,
            "exp": now + lifetime,
            "jti": uuid.uuid4().hex,
        }
        return jwt.encode(
            claims,
            key or self.key,
            algorithm="EdDSA",
            headers={"kid": kid or self.kid, "typ": TOKEN_TYPE},
        )


async def _active_signing_key(database_url: str) -> tuple[str, Ed25519PrivateKey]:
    db = Database(database_url)
    try:
        keys = await load_live_keys(db)
    finally:
        await db.dispose()
    signing = [k for k in keys if k.private_key is not None]
    assert signing, "the gateway has no signing key"
    newest = max(signing, key=lambda k: k.activates_at)
    assert newest.private_key is not None
    return newest.kid, newest.private_key


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _with_other_signature(token: str) -> str:
    header, payload, signature = token.split(".")
    raw = bytearray(_unb64(signature))
    raw[0] ^= 0x01
    return f"{header}.{payload}.{_b64(bytes(raw))}"


def _with_other_payload(token: str) -> str:
    """The token of a university with its roles raised to admin, signature kept."""
    header, payload, signature = token.split(".")
    claims = json.loads(_unb64(payload))
    claims["roles"] = ["admin"]
    return f"{header}.{_b64(json.dumps(claims).encode())}.{signature}"


@pytest.fixture(scope="module")
def forger(running_system: Any) -> Forger:
    kid, key = asyncio.run(_active_signing_key(running_system.gateway_database_url))
    # The test process reads the same environment the launcher gave the gateway.
    settings = Settings()
    return Forger(kid, key, settings.token_issuer, settings.token_audience)


@pytest.fixture(scope="module")
def broken_credentials(running_system: Any, forger: Forger) -> dict[str, str | None]:
    """A bearer value for each broken caller (None: no Authorization header at all)."""
    stranger = Ed25519PrivateKey.generate()
    return {
        "anonymous": None,
        "expired": forger.token(age=3600, lifetime=900),
        "wrong_audience": forger.token(audience="urn:vfu:some-other-api"),
        "tampered_signature": _with_other_signature(running_system.key("admin")),
        "tampered_payload": _with_other_payload(running_system.key("university")),
        "unknown_key": forger.token(key=stranger, kid=thumbprint(stranger.public_key())),
    }


@pytest.fixture(scope="module")
def operations(running_system: Any) -> list[Operation]:
    found = operations_of(running_system.openapi())
    assert len(found) > 30, "the aggregated OpenAPI lists the services' operations"
    return found


@pytest.fixture(scope="module")
def client(running_system: Any) -> Any:
    with httpx.Client(base_url=running_system.url, timeout=15) as http:
        yield http


def _call(client: httpx.Client, operation: Operation, bearer: str | None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {bearer}"} if bearer is not None else {}
    body = {} if operation.method in _BODY_METHODS else None
    return client.request(operation.method, operation.url(), json=body, headers=headers)


def _shown(response: httpx.Response) -> str:
    return f"{response.status_code} {response.text[:400]}"


def _code(response: httpx.Response) -> object:
    try:
        return response.json().get("code")
    except (ValueError, AttributeError):
        return None


# --- tests ---------------------------------------------------------------------------------


def test_every_operation_has_a_matrix_entry_and_every_entry_an_operation(
    operations: list[Operation],
) -> None:
    served = {op.key for op in operations}
    missing = sorted(served - MATRIX.keys())
    stale = sorted(MATRIX.keys() - served)
    assert not missing, f"operations without an access-matrix entry: {missing}"
    assert not stale, f"access-matrix entries for operations the gateway does not serve: {stale}"


def test_portals_only_read() -> None:
    """A portal's API key is a long-lived secret in other back ends (ADR 13): GETs only."""
    writes = sorted(
        key for key, access in MATRIX.items() if "portal" in access.roles and key[:4] != "GET "
    )
    assert not writes, f"the matrix lets portals change things: {writes}"


def test_a_forged_token_without_a_defect_is_accepted(
    client: httpx.Client, forger: Forger, running_system: Any
) -> None:
    """The broken tokens below are refused for their defect, not for how they were made."""
    for role in ROLES:
        answer = client.get(
            "/api/v1/agreements/audit",
            headers={"Authorization": f"Bearer {forger.token(roles=(role,))}"},
        )
        assert answer.status_code != 401, (role, _shown(answer))
    listed = client.get(
        "/api/v1/agreements/organisations",
        headers={"Authorization": f"Bearer {forger.token()}"},
    )
    assert listed.status_code == 200, _shown(listed)


@pytest.mark.parametrize("caller", BROKEN)
def test_broken_credentials_get_401_everywhere(
    caller: str,
    operations: list[Operation],
    broken_credentials: dict[str, str | None],
    client: httpx.Client,
    subtests: pytest.Subtests,
) -> None:
    bearer = broken_credentials[caller]
    for operation in operations:
        with subtests.test(msg=f"{operation.key} as {caller}"):
            response = _call(client, operation, bearer)
            where = f"{operation.key} as {caller}"
            assert response.status_code == 401, f"{where}: {_shown(response)}"
            assert response.headers["content-type"] == "application/problem+json", where
            assert _code(response) == "unauthenticated", f"{where}: {_shown(response)}"
            assert response.headers["www-authenticate"].startswith("Bearer"), where


@pytest.mark.parametrize("role", ROLES)
def test_each_role_gets_what_the_matrix_says(
    role: str,
    operations: list[Operation],
    running_system: Any,
    client: httpx.Client,
    subtests: pytest.Subtests,
) -> None:
    for operation in operations:
        with subtests.test(msg=f"{operation.key} as {role}"):
            access = MATRIX.get(operation.key)
            assert access is not None, f"{operation.key}: no access-matrix entry"
            response = _call(client, operation, running_system.key(role))
            if role in access.roles:
                _assert_permitted(operation, role, response)
            else:
                _assert_denied(operation, role, response)


def _assert_denied(operation: Operation, role: str, response: httpx.Response) -> None:
    where = f"{operation.key} as {role} (denied by the matrix)"
    assert response.status_code == 403, f"{where}: {_shown(response)}"
    assert _code(response) == "forbidden", f"{where}: {_shown(response)}"


def _assert_permitted(operation: Operation, role: str, response: httpx.Response) -> None:
    where = f"{operation.key} as {role} (permitted by the matrix)"
    assert response.status_code not in (401, 403), f"{where}: {_shown(response)}"
    assert response.status_code < 500, f"{where}: {_shown(response)}"
    expected = sorted(operation.expected_when_permitted())
    assert response.status_code in expected, f"{where}: expected {expected}, {_shown(response)}"
    if response.status_code >= 400:
        assert response.headers["content-type"] == "application/problem+json", where
