"""Access tokens the gateway issues (RFC 9068 JWTs) and their verification.

Verification is on every proxied request, so it touches no database: keys come from the
in-memory KeyRing, and a token already verified is remembered (by its exact text) until
it expires, so a client reusing its token pays for one signature check, not one per call.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import Any

import jwt

from gateway.auth.grants import GRANTABLE_ROLES, Grant
from gateway.auth.keys import ALGORITHM, KeyRing

# RFC 9068 §2.1: explicit typing, so no other kind of JWT (an ID token, our internal
# identity token) can pass as an access token (RFC 8725 §3.11).
TOKEN_TYPE = "at+jwt"  # noqa: S105 - a media type, not a secret
_REQUIRED = ["exp", "iat", "nbf", "iss", "aud", "sub", "jti"]
_CACHE_LIMIT = 10_000


class InvalidTokenError(Exception):
    """The token is not one of ours, or not valid now."""


@dataclass(frozen=True)
class IssuedToken:
    """What the token endpoint returns."""

    access_token: str
    expires_in: int
    roles: frozenset[str]


class TokenIssuer:
    """Signs access tokens with the newest active key."""

    def __init__(self, keys: KeyRing, *, issuer: str, audience: str, ttl_seconds: int) -> None:
        self.keys = keys
        self.issuer = issuer
        self.audience = audience
        self.ttl = ttl_seconds

    def issue(
        self, client_id: str, organisation_id: uuid.UUID | None, roles: frozenset[str]
    ) -> IssuedToken:
        """A token for a client; raises LookupError when no key may sign now."""
        key = self.keys.signing_key()
        if key is None or key.private_key is None:
            raise LookupError("no active signing key")
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "aud": self.audience,
            "sub": client_id,
            "client_id": client_id,
            "org": str(organisation_id) if organisation_id else None,
            "roles": sorted(roles),
            "iat": now,
            "nbf": now,
            "exp": now + self.ttl,
            "jti": uuid.uuid4().hex,
        }
        token = jwt.encode(
            claims,
            key.private_key,
            algorithm=ALGORITHM,
            headers={"kid": key.kid, "typ": TOKEN_TYPE},
        )
        return IssuedToken(token, self.ttl, roles)


class TokenVerifier:
    """Verifies the gateway's own access tokens against the live keys."""

    def __init__(self, keys: KeyRing, *, issuer: str, audience: str, leeway_seconds: int) -> None:
        self.keys = keys
        self.issuer = issuer
        self.audience = audience
        self.leeway = leeway_seconds
        self._verified: dict[str, tuple[Grant, float, str]] = {}

    def forget_all(self) -> None:
        """Drop remembered verifications (keys changed: some may be retired)."""
        self._verified.clear()

    def remembered(self, token: str) -> Grant | None:
        """The grant of a token verified before and not expired since, else None."""
        entry = self._verified.get(token)
        if entry is None:
            return None
        grant, expires, kid = entry
        if time.time() > expires + self.leeway or self.keys.public_key(kid) is None:
            del self._verified[token]
            return None
        return grant

    def knows(self, kid: str) -> bool:
        """True when ``kid`` is one of the live keys."""
        return self.keys.public_key(kid) is not None

    def verify(self, token: str, header: dict[str, Any]) -> Grant:
        """Check signature, algorithm, type, issuer, audience and times; the grant.

        ``header`` is the token's unverified header, as read to find its ``kid``.
        """
        kid = str(header.get("kid"))
        public_key = self.keys.public_key(kid)
        if public_key is None:
            raise InvalidTokenError(f"unknown kid {kid!r}")
        try:
            if header.get("typ") != TOKEN_TYPE:
                raise InvalidTokenError(f"typ {header.get('typ')!r} is not {TOKEN_TYPE}")
            # The algorithm is pinned: a token saying "none" or "HS256" fails here, whatever
            # key material it was made with (RFC 8725 §3.1).
            claims = jwt.decode(
                token,
                public_key,
                algorithms=[ALGORITHM],
                audience=self.audience,
                issuer=self.issuer,
                leeway=self.leeway,
                options={"require": _REQUIRED},
            )
            grant = Grant(
                subject=str(claims["sub"]),
                organisation_id=uuid.UUID(claims["org"]) if claims.get("org") else None,
                roles=_roles(claims.get("roles")),
            )
        except (jwt.PyJWTError, ValueError, TypeError) as exc:
            raise InvalidTokenError(str(exc)) from exc
        self._remember(token, grant, float(claims["exp"]), kid)
        return grant

    def _remember(self, token: str, grant: Grant, expires: float, kid: str) -> None:
        if len(self._verified) >= _CACHE_LIMIT:
            # Crude but bounded: a full table starts over (each client re-verifies once).
            self._verified.clear()
        self._verified[token] = (grant, expires, kid)


def _roles(value: Any) -> frozenset[str]:
    if not isinstance(value, list) or not value:
        raise ValueError("roles must be a non-empty list")
    roles = frozenset(str(r) for r in value)
    if not roles <= GRANTABLE_ROLES:
        raise ValueError(f"unknown roles {sorted(roles - GRANTABLE_ROLES)}")
    return roles
