"""Signing keys of access tokens: Ed25519 key pairs in the gateway database (ADR 13).

Several keys can be live. Each is published in the JWKS from its creation and signs from
its ``activates_at``: the newest active key signs new tokens, older non-retired keys still
verify the tokens they signed, and a retired key is dropped from the JWKS (its private
half erased), so tokens it signed stop working once the replicas have reloaded.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import select, update
from vfu_common.db import Database
from vfu_common.utc import utcnow

from gateway.auth.tables import signing_keys

ALGORITHM = "EdDSA"
_LIVE = signing_keys.c.retired_at.is_(None)


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _raw_public(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def thumbprint(public_key: Ed25519PublicKey) -> str:
    """The RFC 7638 JWK thumbprint: a kid that names the key and nothing else."""
    members = {"crv": "Ed25519", "kty": "OKP", "x": _b64url(_raw_public(public_key))}
    canonical = json.dumps(members, separators=(",", ":"), sort_keys=True).encode()
    return _b64url(hashlib.sha256(canonical).digest())


def public_jwk(public_key: Ed25519PublicKey, kid: str) -> dict[str, str]:
    """The public half as a JWK (RFC 8037)."""
    return {
        "kty": "OKP",
        "crv": "Ed25519",
        "x": _b64url(_raw_public(public_key)),
        "kid": kid,
        "alg": ALGORITHM,
        "use": "sig",
    }


def _public_from_jwk(jwk: dict[str, Any]) -> Ed25519PublicKey:
    raw = base64.urlsafe_b64decode(jwk["x"] + "=" * (-len(jwk["x"]) % 4))
    return Ed25519PublicKey.from_public_bytes(raw)


@dataclass(frozen=True)
class SigningKey:
    """One key as the gateway holds it in memory."""

    kid: str
    public_key: Ed25519PublicKey
    jwk: dict[str, str]
    private_key: Ed25519PrivateKey | None
    created_at: datetime
    activates_at: datetime
    retired_at: datetime | None

    def signs_at(self, now: datetime) -> bool:
        """True when this key may sign tokens at ``now``."""
        return self.private_key is not None and self.retired_at is None and self.activates_at <= now


def _from_row(row: Any) -> SigningKey:
    jwk = json.loads(row.public_jwk)
    private = None
    if row.private_key_pem:
        loaded = serialization.load_pem_private_key(row.private_key_pem.encode(), password=None)
        if not isinstance(loaded, Ed25519PrivateKey):
            raise ValueError(f"signing key {row.kid} is not an Ed25519 key")
        private = loaded
    return SigningKey(
        kid=row.kid,
        public_key=_public_from_jwk(jwk),
        jwk=jwk,
        private_key=private,
        created_at=row.created_at,
        activates_at=row.activates_at,
        retired_at=row.retired_at,
    )


class KeyRing:
    """The live keys of one gateway replica; replaced whole on every reload."""

    def __init__(self, keys: list[SigningKey] | None = None) -> None:
        self._by_kid: dict[str, SigningKey] = {}
        self.replace(keys or [])

    def replace(self, keys: list[SigningKey]) -> bool:
        """Hold exactly these (non-retired) keys; True when the set of kids changed."""
        live = {k.kid: k for k in keys if k.retired_at is None}
        changed = live.keys() != self._by_kid.keys()
        self._by_kid = live
        return changed

    def public_key(self, kid: str) -> Ed25519PublicKey | None:
        """The verifying key for ``kid``, if it is live."""
        key = self._by_kid.get(kid)
        return key.public_key if key else None

    def signing_key(self, now: datetime | None = None) -> SigningKey | None:
        """The newest key that may sign at ``now``."""
        now = now or utcnow()
        usable = [k for k in self._by_kid.values() if k.signs_at(now)]
        return max(usable, key=lambda k: (k.activates_at, k.created_at), default=None)

    def jwks(self) -> dict[str, list[dict[str, str]]]:
        """Every live public key, oldest first."""
        ordered = sorted(self._by_kid.values(), key=lambda k: (k.activates_at, k.created_at))
        return {"keys": [k.jwk for k in ordered]}

    def __len__(self) -> int:
        return len(self._by_kid)


# --- the store ---------------------------------------------------------------------------


async def load_live_keys(db: Database) -> list[SigningKey]:
    """Every key that is not retired."""
    async with db.read() as session:
        rows = await session.execute(select(signing_keys).where(_LIVE))
        return [_from_row(row) for row in rows]


async def all_keys(db: Database) -> list[SigningKey]:
    """Every key ever made, retired ones too, oldest first."""
    async with db.read() as session:
        rows = await session.execute(select(signing_keys).order_by(signing_keys.c.created_at))
        return [_from_row(row) for row in rows]


def _new_row(activates_in: timedelta) -> dict[str, Any]:
    private = Ed25519PrivateKey.generate()
    kid = thumbprint(private.public_key())
    now = utcnow()
    return {
        "kid": kid,
        "algorithm": ALGORITHM,
        "private_key_pem": private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode(),
        "public_jwk": json.dumps(public_jwk(private.public_key(), kid)),
        "created_at": now,
        "activates_at": now + activates_in,
        "retired_at": None,
    }


async def create_key(db: Database, *, activates_in: timedelta = timedelta(0)) -> str:
    """Make a new key pair that signs from ``activates_in`` on; returns its kid."""
    row = _new_row(activates_in)
    async with db.write() as session:
        await session.execute(signing_keys.insert().values(**row))
    return str(row["kid"])


async def ensure_key(db: Database) -> str | None:
    """Make a key that signs now if there is no live key at all; returns its kid if made.

    Two replicas starting on an empty store may both make one; both are valid, and the
    newer signs once each has reloaded.
    """
    async with db.write() as session:
        live = await session.execute(select(signing_keys.c.kid).where(_LIVE).limit(1))
        if live.first() is not None:
            return None
        row = _new_row(timedelta(0))
        await session.execute(signing_keys.insert().values(**row))
        return str(row["kid"])


class RetireRefusedError(Exception):
    """Retiring this key now would leave nothing to sign with."""


async def retire_key(db: Database, kid: str, *, force: bool = False) -> bool:
    """Retire ``kid`` and erase its private half; False if no such live key.

    Refused (unless ``force``) for the key that signs now when no other key could take
    over: every token request would fail until a new key is made.
    """
    async with db.write() as session:
        rows = await session.execute(select(signing_keys).where(_LIVE))
        live = [_from_row(row) for row in rows]
        if kid not in {k.kid for k in live}:
            return False
        others = KeyRing([k for k in live if k.kid != kid])
        if not force and others.signing_key() is None:
            raise RetireRefusedError(
                f"{kid} is the only key that can sign now: rotate first, and retire it once "
                "the new key is active and the old key's tokens have expired"
            )
        await session.execute(
            update(signing_keys)
            .where(signing_keys.c.kid == kid)
            .values(retired_at=utcnow(), private_key_pem=None)
        )
        return True
