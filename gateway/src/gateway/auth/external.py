"""Tokens from an external identity provider, verified against its published JWKS.

Validation follows RFC 8725: the algorithms are an allow-list of asymmetric ones
(settings refuse HS* and none), each key is bound to one algorithm (PyJWK), symmetric
keys in the JWKS are ignored, and iss, aud and exp are required and checked. The JWKS is
fetched off the event loop, refreshed periodically and, for a token whose kid is unknown,
at most once per GATEWAY_EXTERNAL_JWKS_FLOOR_SECONDS, so junk kids cannot make the
gateway hammer the provider.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from typing import Any

import jwt
from jwt import PyJWK, PyJWKClient

from gateway.auth.grants import GRANTABLE_ROLES, Grant
from gateway.auth.tokens import InvalidTokenError
from gateway.settings import Settings

_log = logging.getLogger(__name__)
SUBJECT_PREFIX = "ext:"
_FETCH_TIMEOUT_SECONDS = 5.0


def claim_at(claims: dict[str, Any], path: str) -> Any:
    """The value at a dotted path (``realm_access.roles``), or None."""
    value: Any = claims
    for part in path.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def roles_from_claim(value: Any) -> frozenset[str]:
    """Our roles among a claim's values (a list, or a space-separated string)."""
    if isinstance(value, str):
        names = value.split()
    elif isinstance(value, list):
        names = [v for v in value if isinstance(v, str)]
    else:
        names = []
    # A provider has roles of its own; only ours count, and never "system".
    return frozenset(names) & GRANTABLE_ROLES


class ExternalVerifier:
    """Verifies one external provider's tokens."""

    def __init__(self, settings: Settings) -> None:
        if not (settings.external_issuer and settings.external_jwks_url):
            raise ValueError("no external identity provider is configured")
        self.issuer = settings.external_issuer
        self.audience = settings.external_audience
        self.algorithms = settings.external_algorithm_list()
        self.organisation_claim = settings.external_organisation_claim
        self.roles_claim = settings.external_roles_claim
        self.leeway = settings.token_leeway_seconds
        self.floor = settings.external_jwks_floor_seconds
        # Our own cache (below) decides when to fetch, so the client's is off.
        self._client = PyJWKClient(
            settings.external_jwks_url, cache_jwk_set=False, timeout=_FETCH_TIMEOUT_SECONDS
        )
        self._keys: dict[str, PyJWK] = {}
        self._fetched_at = float("-inf")
        self._lock = asyncio.Lock()

    async def refresh(self) -> None:
        """Fetch the JWKS now; on failure keep the keys we have."""
        async with self._lock:
            await self._fetch()

    async def _fetch(self) -> None:
        self._fetched_at = time.monotonic()
        try:
            jwk_set = await asyncio.to_thread(self._client.get_jwk_set, True)
        except (jwt.PyJWKClientError, jwt.PyJWTError, OSError) as exc:
            _log.warning("external JWKS %s: fetch failed (%s)", self._client.uri, exc)
            return
        self._keys = {
            key.key_id: key
            for key in jwk_set.keys
            if key.key_id and key.key_type != "oct" and key.algorithm_name in self.algorithms
        }

    async def _key(self, kid: str) -> PyJWK | None:
        key = self._keys.get(kid)
        if key is not None:
            return key
        async with self._lock:
            # Another request may have fetched while this one waited for the lock.
            if kid not in self._keys and time.monotonic() - self._fetched_at >= self.floor:
                await self._fetch()
        return self._keys.get(kid)

    async def verify(self, token: str, header: dict[str, Any]) -> Grant:
        """The grant of a valid token; raises InvalidTokenError otherwise."""
        if header.get("alg") not in self.algorithms:
            raise InvalidTokenError(f"algorithm {header.get('alg')!r} not allowed")
        key = await self._key(str(header.get("kid")))
        if key is None:
            raise InvalidTokenError(f"unknown kid {header.get('kid')!r}")
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=self.algorithms,
                audience=self.audience,
                issuer=self.issuer,
                leeway=self.leeway,
                options={"require": ["exp", "iss", "aud", "sub"]},
            )
        except jwt.PyJWTError as exc:
            raise InvalidTokenError(str(exc)) from exc
        return self._grant(claims)

    def _grant(self, claims: dict[str, Any]) -> Grant:
        roles = roles_from_claim(claim_at(claims, self.roles_claim))
        if not roles:
            raise InvalidTokenError(f"no VFU roles in claim {self.roles_claim!r}")
        organisation = claim_at(claims, self.organisation_claim)
        try:
            organisation_id = uuid.UUID(str(organisation)) if organisation else None
        except ValueError as exc:
            raise InvalidTokenError(f"claim {self.organisation_claim!r} is not a uuid") from exc
        return Grant(SUBJECT_PREFIX + str(claims["sub"]), organisation_id, roles)
