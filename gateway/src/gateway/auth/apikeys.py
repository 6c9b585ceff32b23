"""API keys for student portals: ``vfu_pk_<8-character id>_<40 random characters>``.

The id finds the row; the secret part is checked against a keyed hash in constant time.
Lookups are cached for a few seconds (GATEWAY_API_KEY_CACHE_SECONDS), which is how long a
revocation takes to reach a running replica (ADR 13).
"""

from __future__ import annotations

import hmac
import logging
import secrets
import string
import time
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import SQLAlchemyError
from vfu_common.db import Database
from vfu_common.utc import utcnow

from gateway.auth.errors import AuthStoreUnavailableError
from gateway.auth.grants import Grant, check_roles, listing_fields, parse_roles, roles_text
from gateway.auth.hashing import keyed_hash, new_salt
from gateway.auth.tables import api_keys

_log = logging.getLogger(__name__)
API_KEY_PREFIX = "vfu_pk_"
# A static bearer secret lives long and travels far (portal back ends, their logs), so it
# only ever grants the read-only portal role; everything else uses short-lived tokens.
API_KEY_ROLES = frozenset({"portal"})
_ID_ALPHABET = string.ascii_lowercase + string.digits
_ID_CHARS = 8
_SECRET_ALPHABET = string.ascii_letters + string.digits
_SECRET_CHARS = 40  # ~238 bits
_CACHE_LIMIT = 10_000
_ID_SET = frozenset(_ID_ALPHABET)
_SECRET_SET = frozenset(_SECRET_ALPHABET)


@dataclass(frozen=True)
class ApiKey:
    """A stored key, without its secret."""

    key_id: str
    name: str
    organisation_id: uuid.UUID | None
    roles: frozenset[str]
    created_at: datetime
    revoked_at: datetime | None

    def as_json(self) -> dict[str, Any]:
        """For ``vfu api-keys list --json``."""
        return {"key_id": self.key_id, **listing_fields(self)}


def parse_api_key(text: str) -> tuple[str, str] | None:
    """(key id, secret part) of a well-formed key, else None."""
    if not text.startswith(API_KEY_PREFIX):
        return None
    key_id, separator, secret = text[len(API_KEY_PREFIX) :].partition("_")
    if not separator or len(key_id) != _ID_CHARS or len(secret) != _SECRET_CHARS:
        return None
    if not (set(key_id) <= _ID_SET and set(secret) <= _SECRET_SET):
        return None
    return key_id, secret


def _api_key(row: Any) -> ApiKey:
    return ApiKey(
        key_id=row.key_id,
        name=row.name,
        organisation_id=row.organisation_id,
        roles=parse_roles(row.roles),
        created_at=row.created_at,
        revoked_at=row.revoked_at,
    )


async def create_api_key(
    db: Database, *, name: str, organisation_id: uuid.UUID | None, roles: list[str]
) -> tuple[ApiKey, str]:
    """Store a new key; returns it and the key itself (stored only hashed)."""
    granted = check_roles(roles, API_KEY_ROLES)
    key_id = "".join(secrets.choice(_ID_ALPHABET) for _ in range(_ID_CHARS))
    secret = "".join(secrets.choice(_SECRET_ALPHABET) for _ in range(_SECRET_CHARS))
    salt = new_salt()
    now = utcnow()
    async with db.write() as session:
        await session.execute(
            api_keys.insert().values(
                key_id=key_id,
                name=name,
                organisation_id=organisation_id,
                roles=roles_text(granted),
                key_salt=salt,
                key_hash=keyed_hash(secret, salt),
                created_at=now,
                revoked_at=None,
            )
        )
    key = ApiKey(key_id, name, organisation_id, granted, now, None)
    return key, f"{API_KEY_PREFIX}{key_id}_{secret}"


async def list_api_keys(db: Database) -> list[ApiKey]:
    """Every key, revoked ones too, oldest first."""
    async with db.read() as session:
        rows = await session.execute(select(api_keys).order_by(api_keys.c.created_at))
        return [_api_key(row) for row in rows]


async def revoke_api_key(db: Database, key_id: str) -> bool:
    """Revoke a key; False if there is no such key that is not already revoked."""
    async with db.write() as session:
        result = await session.execute(
            update(api_keys)
            .where(api_keys.c.key_id == key_id, api_keys.c.revoked_at.is_(None))
            .values(revoked_at=utcnow())
        )
        return bool(result.rowcount == 1)  # type: ignore[attr-defined]


@dataclass(frozen=True)
class _Stored:
    salt: str
    digest: str
    grant: Grant


class ApiKeyVerifier:
    """Checks presented keys; remembers each lookup (found or not) for ``ttl`` seconds."""

    def __init__(self, db: Database, *, ttl_seconds: float) -> None:
        self.db = db
        self.ttl = ttl_seconds
        self._cache: dict[str, tuple[float, _Stored | None]] = {}

    async def verify(self, presented: str) -> Grant | None:
        """The grant of a valid, unrevoked key, else None."""
        parsed = parse_api_key(presented)
        if parsed is None:
            return None
        key_id, secret = parsed
        stored = await self._lookup(key_id)
        if stored is None:
            return None
        if not hmac.compare_digest(keyed_hash(secret, stored.salt), stored.digest):
            return None
        return stored.grant

    async def _lookup(self, key_id: str) -> _Stored | None:
        now = time.monotonic()
        cached = self._cache.get(key_id)
        if cached is not None and cached[0] > now:
            return cached[1]
        try:
            stored = await self._load(key_id)
        except (SQLAlchemyError, OSError) as exc:
            if cached is None:
                raise AuthStoreUnavailableError(str(exc)) from exc
            # The store is away: a key we checked before keeps its last answer meanwhile.
            _log.warning("api keys: store unavailable, using the cached answer for %s", key_id)
            return cached[1]
        if len(self._cache) >= _CACHE_LIMIT:
            self._cache.clear()
        self._cache[key_id] = (now + self.ttl, stored)
        return stored

    async def _load(self, key_id: str) -> _Stored | None:
        async with self.db.read() as session:
            rows = await session.execute(
                select(api_keys).where(api_keys.c.key_id == key_id, api_keys.c.revoked_at.is_(None))
            )
            row = rows.first()
        if row is None:
            return None
        grant = Grant(f"apikey:{row.key_id}", row.organisation_id, parse_roles(row.roles))
        return _Stored(row.key_salt, row.key_hash, grant)
