"""The access matrix: which roles may call which operation, as one table per service.

Each service declares an ``AccessMatrix`` keyed by ``"METHOD /path"`` exactly as the
operation appears in OpenAPI. ``enforce_access_matrix`` puts the role check in front of every
API operation and refuses to build an app in which an operation has no entry (or an entry
names no operation), so a new endpoint cannot ship without a decision about who may call
it. The check runs before the request body is read or validated: a caller without the
role gets 403 whatever it sends.

The matrix decides roles only. Object-level decisions (may this university see that
booking?) stay in the owning feature's code, which answers 404 for objects the caller may
not see; ``Access.objects`` documents that rule in words.

``tests/access`` reads the gateway's aggregated OpenAPI and calls every operation as
every role and as broken tokens, with the expected outcome taken from these tables.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from fastapi import FastAPI, routing
from starlette.routing import compile_path
from starlette.types import ASGIApp, Receive, Scope, Send

from vfu_common.errors import problem_bytes
from vfu_common.principal import ROLES, Principal

#: The roles a caller from outside can hold (``system`` is for services' own calls).
EXTERNAL_ROLES: Final = frozenset(ROLES - {"system"})
#: Every role that acts for an organisation or the platform: all but the read-only portal.
NON_PORTAL_ROLES: Final = frozenset(ROLES - {"portal"})


@dataclass(frozen=True)
class Access:
    """Who may call one operation.

    Attributes:
        roles: Roles let through the role check; every other caller gets 403.
        objects: The object-level rule in words (which objects a permitted caller may
            see or change; others answer 404), for the docs and reviewers.
    """

    roles: frozenset[str]
    objects: str = ""

    def allows(self, principal: Principal) -> bool:
        """True when ``principal`` holds one of the permitted roles."""
        return principal.has_role(*self.roles)


def allow(*roles: str, objects: str = "") -> Access:
    """An entry permitting ``roles`` (``system`` is always added: services act as it).

    Raises:
        ValueError: A role is not one of ``vfu_common.internal_token.ROLES``.
    """
    unknown = set(roles) - ROLES
    if unknown:
        raise ValueError(f"unknown roles {sorted(unknown)}")
    return Access(frozenset(roles) | {"system"}, objects)


def everyone(objects: str = "") -> Access:
    """An entry permitting every authenticated caller."""
    return Access(frozenset(ROLES), objects)


AccessMatrix = Mapping[str, Access]


def operation_key(method: str, path: str) -> str:
    """The matrix key of an operation: ``"GET /api/v1/placements/offers/{offer_id}"``."""
    return f"{method.upper()} {path}"


def shared_access(service: str) -> dict[str, Access]:
    """Entries of the routers every service mounts (organisation projection, audit log)."""
    api = f"/api/v1/{service}"
    entries = {
        operation_key("GET", f"{api}/audit"): allow(
            *NON_PORTAL_ROLES, objects="admins read all; others their organisation's records"
        ),
    }
    if service != "agreements":  # the agreements service owns organisations outright
        entries[operation_key("GET", f"{api}/organisations/{{organisation_id}}")] = everyone()
    return entries


def _operations(app: FastAPI) -> set[str]:
    """The app's ``/api/`` operations: every documented route's methods and path.

    Read from FastAPI's route contexts (which see into included routers) rather than by
    building the OpenAPI document: that costs a third of a second per app, paid at every
    start (and in every test), while the routes give the same operations in microseconds.
    ``tests/access/test_operation_views.py`` checks both views agree.
    """
    keys: set[str] = set()
    for context in routing.iter_route_contexts(app.routes):
        if not isinstance(context.original_route, routing.APIRoute):
            continue
        path = context.path_format
        if context.include_in_schema and path is not None and path.startswith("/api/"):
            keys.update(operation_key(method, path) for method in context.methods or ())
    return keys


def check_matrix_complete(app: FastAPI, matrix: AccessMatrix) -> None:
    """Raise unless ``matrix`` has exactly one entry per ``/api/`` operation of ``app``.

    Raises:
        RuntimeError: An operation has no entry, or an entry matches no operation.
    """
    operations = _operations(app)
    missing = sorted(operations - set(matrix))
    if missing:
        raise RuntimeError(f"operations without an access-matrix entry: {missing}")
    stale = sorted(set(matrix) - operations)
    if stale:
        raise RuntimeError(f"access-matrix entries without an operation: {stale}")


def enforce_access_matrix(app: FastAPI, matrix: AccessMatrix) -> None:
    """Check ``matrix`` covers ``app`` and put its role check in front of every operation.

    The check is a middleware matching the request against the matrix's own path
    templates, so it runs before routing reads the body and does not depend on how
    FastAPI stores included routes.

    Raises:
        RuntimeError: The matrix and the app's operations differ.
    """
    check_matrix_complete(app, matrix)
    app.add_middleware(RoleGuardMiddleware, matrix=matrix)


@dataclass(frozen=True)
class _Template:
    method: str
    path: str
    pattern: re.Pattern[str]
    access: Access
    # Literal paths win over templated ones ("/offers/import" before "/offers/{id}").
    rank: tuple[int, int]


def _templates(matrix: AccessMatrix) -> list[_Template]:
    templates = []
    for key, access in matrix.items():
        method, path = key.split(" ", 1)
        pattern, _, _ = compile_path(path)
        templates.append(_Template(method, path, pattern, access, (path.count("{"), -len(path))))
    return sorted(templates, key=lambda t: t.rank)


class RoleGuardMiddleware:
    """Refuses (403) callers whose roles the matrix does not permit for the operation.

    Runs inside the identity middleware, which has put the verified principal in the
    scope. Paths the matrix does not know pass through (health endpoints, 404s).
    """

    def __init__(self, app: ASGIApp, matrix: AccessMatrix) -> None:
        self.app = app
        self.templates = _templates(matrix)

    def match(self, method: str, path: str) -> tuple[_Template, dict[str, str]] | None:
        """The matrix entry of a request and its path parameters, or None."""
        for template in self.templates:
            found = template.pattern.match(path) if template.method == method else None
            if found:
                return template, found.groupdict()
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith("/api/"):
            matched = self.match(scope["method"], scope["path"])
            principal = scope.get("state", {}).get("principal")
            if matched and (principal is None or not matched[0].access.allows(principal)):
                template, params = matched
                # What routing would have set: the audit log records the refusal against
                # the operation and its object, as it does for refusals inside a route.
                scope["route"] = _MatchedOperation(template.path)
                scope["path_params"] = params
                await _forbid(send, template.access)
                return
        await self.app(scope, receive, send)


@dataclass(frozen=True)
class _MatchedOperation:
    """Stands in for the route of a request refused before routing."""

    path: str


async def _forbid(send: Send, access: Access) -> None:
    roles = ", ".join(sorted(access.roles - {"system"}))
    body = problem_bytes(403, "forbidden", "Forbidden", f"This operation needs one of: {roles}.")
    await send(
        {
            "type": "http.response.start",
            "status": 403,
            "headers": [
                (b"content-type", b"application/problem+json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
