"""Annotated dependency aliases used by every service's endpoints.

The dependencies are ``async def`` although they await nothing: FastAPI runs a plain
``def`` dependency in its threadpool, a ~70 µs hop on every request.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from vfu_common.db import Database
from vfu_common.errors import ProblemError
from vfu_common.pagination import PageParams, page_params
from vfu_common.principal import Principal


async def get_database(request: Request) -> Database:
    """The service's Database."""
    db: Database = request.app.state.runtime.db
    return db


async def get_principal(request: Request) -> Principal:
    """The caller, verified by InternalIdentityMiddleware."""
    principal: Principal | None = getattr(request.state, "principal", None)
    if principal is None:  # only reachable if the middleware was not installed
        raise ProblemError(401, "unauthenticated", "Unauthenticated")
    return principal


def require_roles(*roles: str) -> object:
    """A dependency refusing callers that hold none of ``roles`` (403 problem)."""

    async def _check(principal: PrincipalDep) -> Principal:
        if not principal.has_role(*roles):
            raise ProblemError(
                403,
                "forbidden",
                "Forbidden",
                f"This operation needs one of the roles: {', '.join(roles)}.",
            )
        return principal

    return Depends(_check)


DatabaseDep = Annotated[Database, Depends(get_database)]
PrincipalDep = Annotated[Principal, Depends(get_principal)]
PageDep = Annotated[PageParams, Depends(page_params)]
