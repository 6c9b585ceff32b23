"""OAuth2 clients (RFC 6749 §4.4, client credentials): registered with a hashed secret."""

from __future__ import annotations

import asyncio
import secrets
import string
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from vfu_common.db import Database
from vfu_common.utc import utcnow

from gateway.auth.grants import check_roles, listing_fields, parse_roles, roles_text
from gateway.auth.hashing import dummy_hash, hash_secret, verify_secret_off_loop
from gateway.auth.tables import oauth_clients

# Prefixes make a leaked id or secret recognisable to secret scanners and to people.
CLIENT_ID_PREFIX = "vfu_ci_"
CLIENT_SECRET_PREFIX = "vfu_cs_"  # noqa: S105 - a prefix, not a secret
_ALPHABET = string.ascii_letters + string.digits
_ID_CHARS = 12  # ~71 bits: ids are not secret, only unique
_SECRET_CHARS = 40  # ~238 bits


def _random(n: int, alphabet: str = _ALPHABET) -> str:
    return "".join(secrets.choice(alphabet) for _ in range(n))


@dataclass(frozen=True)
class Client:
    """A registered client, without its secret."""

    client_id: str
    name: str
    organisation_id: uuid.UUID | None
    roles: frozenset[str]
    created_at: datetime
    revoked_at: datetime | None

    def as_json(self) -> dict[str, Any]:
        """For ``vfu clients list --json``."""
        return {"client_id": self.client_id, **listing_fields(self)}


def _client(row: Any) -> Client:
    return Client(
        client_id=row.client_id,
        name=row.name,
        organisation_id=row.organisation_id,
        roles=parse_roles(row.roles),
        created_at=row.created_at,
        revoked_at=row.revoked_at,
    )


async def create_client(
    db: Database, *, name: str, organisation_id: uuid.UUID | None, roles: list[str]
) -> tuple[Client, str]:
    """Register a client; returns it and its secret (which is stored only hashed)."""
    granted = check_roles(roles)
    client_id = CLIENT_ID_PREFIX + _random(_ID_CHARS, string.ascii_lowercase + string.digits)
    secret = CLIENT_SECRET_PREFIX + _random(_SECRET_CHARS)
    secret_hash = await asyncio.to_thread(hash_secret, secret)
    now = utcnow()
    async with db.write() as session:
        await session.execute(
            oauth_clients.insert().values(
                client_id=client_id,
                name=name,
                organisation_id=organisation_id,
                roles=roles_text(granted),
                secret_hash=secret_hash,
                created_at=now,
                revoked_at=None,
            )
        )
    return Client(client_id, name, organisation_id, granted, now, None), secret


async def list_clients(db: Database) -> list[Client]:
    """Every client, revoked ones too, oldest first."""
    async with db.read() as session:
        rows = await session.execute(select(oauth_clients).order_by(oauth_clients.c.created_at))
        return [_client(row) for row in rows]


async def get_client(db: Database, client_id: str) -> Client | None:
    """One client, revoked or not."""
    async with db.read() as session:
        rows = await session.execute(
            select(oauth_clients).where(oauth_clients.c.client_id == client_id)
        )
        row = rows.first()
        return _client(row) if row else None


async def revoke_client(db: Database, client_id: str) -> bool:
    """Revoke a client; False if there is no such client that is not already revoked."""
    async with db.write() as session:
        result = await session.execute(
            update(oauth_clients)
            .where(oauth_clients.c.client_id == client_id, oauth_clients.c.revoked_at.is_(None))
            .values(revoked_at=utcnow())
        )
        return bool(result.rowcount == 1)  # type: ignore[attr-defined]


async def revoked_client_ids(db: Database) -> frozenset[str]:
    """Clients whose tokens must stop working before they expire."""
    async with db.read() as session:
        rows = await session.execute(
            select(oauth_clients.c.client_id).where(oauth_clients.c.revoked_at.is_not(None))
        )
        return frozenset(rows.scalars())


async def authenticate_client(db: Database, client_id: str, secret: str) -> Client | None:
    """The client if ``secret`` is its secret and it is not revoked, else None.

    Takes one scrypt verification whatever the outcome, so timing tells nothing.
    """
    async with db.read() as session:
        rows = await session.execute(
            select(oauth_clients).where(oauth_clients.c.client_id == client_id)
        )
        row = rows.first()
    valid = await verify_secret_off_loop(secret, row.secret_hash if row else dummy_hash())
    if row is None or not valid or row.revoked_at is not None:
        return None
    return _client(row)
