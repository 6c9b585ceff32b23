"""The gateway tests' kit: a gateway store with credentials in it, and an upstream that
echoes the identity it was given."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from gateway.admin import ALEMBIC_INI
from gateway.auth.apikeys import create_api_key
from gateway.auth.clients import create_client
from gateway.auth.keys import KeyRing, ensure_key, load_live_keys
from gateway.auth.tokens import TokenIssuer
from gateway.settings import Settings
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from vfu_common.db import Database
from vfu_common.internal_token import INTERNAL_HEADER, InternalTokenVerifier
from vfu_common.migrations import upgrade
from vfu_testing.tokens import test_keypair

TEST_ORGANISATION_ID = uuid.UUID("0190a0b0-0000-7000-8000-000000000001")
# Long enough for any test run: a session's store and token may be made at its start.
TEST_TOKEN_TTL = 24 * 3600


@dataclass(frozen=True)
class AuthStore:
    """A migrated gateway store holding a university client and a portal API key."""

    database_url: str
    client_id: str
    client_secret: str
    organisation_id: uuid.UUID
    token: str
    api_key: str

    @property
    def auth(self) -> dict[str, str]:
        """Headers carrying the client's access token."""
        return {"Authorization": f"Bearer {self.token}"}


def migrate_store(url: str) -> None:
    """Migrate the gateway store at ``url`` (blocking)."""
    upgrade(ALEMBIC_INI, url)


async def provision(url: str) -> AuthStore:
    """Add a signing key, a university client and a portal key to a migrated store.

    The client's token is minted here with a long lifetime, by the gateway's own issuer,
    so that tests which are not about tokens need not fetch one.
    """
    db = Database(url)
    try:
        await ensure_key(db)
        client, secret = await create_client(
            db,
            name="Uppsala universitet",
            organisation_id=TEST_ORGANISATION_ID,
            roles=["university"],
        )
        _, api_key = await create_api_key(db, name="portal", organisation_id=None, roles=["portal"])
        defaults = Settings()
        issuer = TokenIssuer(
            KeyRing(await load_live_keys(db)),
            issuer=defaults.token_issuer,
            audience=defaults.token_audience,
            ttl_seconds=TEST_TOKEN_TTL,
        )
        issued = issuer.issue(client.client_id, TEST_ORGANISATION_ID, client.roles)
    finally:
        await db.dispose()
    return AuthStore(
        url, client.client_id, secret, TEST_ORGANISATION_ID, issued.access_token, api_key
    )


def identity_echo() -> Starlette:
    """An upstream double answering with the principal the gateway forwarded to it."""
    verifier = InternalTokenVerifier(test_keypair()[1])

    async def echo(request: Request) -> JSONResponse:
        principal = verifier.verify(request.headers.get(INTERNAL_HEADER, ""))
        return JSONResponse(
            {
                "subject": principal.subject,
                "organisation_id": str(principal.organisation_id)
                if principal.organisation_id
                else None,
                "roles": sorted(principal.roles),
            }
        )

    methods = ["GET", "POST", "PUT", "PATCH", "DELETE"]
    return Starlette(routes=[Route("/{path:path}", echo, methods=methods)])


def gateway_settings(database_url: str, agreements_url: str, **overrides: Any) -> Settings:
    """Gateway settings for tests: the test internal key, limits out of the way."""
    values: dict[str, Any] = {
        "internal_private_key": test_keypair()[0],
        "database_url": database_url,
        "agreements_url": agreements_url,
        "placements_url": agreements_url,
        "supervisors_url": agreements_url,
        "rate_limit_per_second": 10_000,
        "rate_limit_burst": 10_000,
        "log_level": "WARNING",
    }
    return Settings(**(values | overrides))
