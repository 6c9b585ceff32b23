"""``Authorization: Bearer ...`` → a principal: an API key, our token, or the provider's.

Each replica holds the live signing keys and the revoked client ids in memory, reloaded
from the database every GATEWAY_KEY_RELOAD_SECONDS, and at once (at most every
GATEWAY_KEY_RELOAD_FLOOR_SECONDS) when one of our tokens names a kid it does not know:
how a replica picks up a rotation made elsewhere (ADR 13).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any

import jwt
from vfu_common.db import Database
from vfu_common.principal import Principal

from gateway.auth.apikeys import API_KEY_PREFIX, ApiKeyVerifier
from gateway.auth.clients import revoked_client_ids
from gateway.auth.errors import AuthStoreUnavailableError
from gateway.auth.external import ExternalVerifier
from gateway.auth.grants import Grant
from gateway.auth.keys import KeyRing, ensure_key, load_live_keys
from gateway.auth.tokens import InvalidTokenError, TokenIssuer, TokenVerifier
from gateway.settings import Settings

_log = logging.getLogger(__name__)
__all__ = ["AuthStoreUnavailableError", "Authenticator"]


class Authenticator:
    """Everything that turns a credential into a principal, for one gateway replica."""

    def __init__(self, settings: Settings, db: Database) -> None:
        self.settings = settings
        self.db = db
        self.keys = KeyRing()
        self.issuer = TokenIssuer(
            self.keys,
            issuer=settings.token_issuer,
            audience=settings.token_audience,
            ttl_seconds=settings.access_token_ttl_seconds,
        )
        self.tokens = TokenVerifier(
            self.keys,
            issuer=settings.token_issuer,
            audience=settings.token_audience,
            leeway_seconds=settings.token_leeway_seconds,
        )
        self.api_keys = ApiKeyVerifier(db, ttl_seconds=settings.api_key_cache_seconds)
        self.external = ExternalVerifier(settings) if settings.external_issuer else None
        self._revoked: frozenset[str] = frozenset()
        self._reloaded_at = float("-inf")
        self._reload_lock = asyncio.Lock()
        self._tasks: list[asyncio.Task[None]] = []

    # --- life cycle ------------------------------------------------------------------------

    async def start(self) -> None:
        """Make a first key on an empty store, load the keys, start the reload loops."""
        made = await ensure_key(self.db)
        if made:
            _log.info("auth: no signing key was live; made %s", made)
        await self.reload()
        reload_loop = self._every(self.settings.key_reload_seconds, self.reload)
        self._tasks.append(asyncio.create_task(reload_loop))
        if self.external is not None:
            await self.external.refresh()
            period = self.settings.external_jwks_refresh_seconds
            self._tasks.append(asyncio.create_task(self._every(period, self.external.refresh)))

    async def stop(self) -> None:
        """Stop the reload loops."""
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()

    async def _every(self, seconds: float, action: Any) -> None:
        while True:
            await asyncio.sleep(seconds)
            try:
                await action()
            except Exception:
                # A database or provider hiccup must not end the loop: the next turn retries,
                # and until then the keys already loaded keep working.
                _log.exception("auth: periodic reload failed")

    async def reload(self) -> None:
        """Load the live keys and the revoked clients from the database."""
        async with self._reload_lock:
            await self._reload()

    async def _reload(self) -> None:
        self._reloaded_at = time.monotonic()
        keys = await load_live_keys(self.db)
        revoked = await revoked_client_ids(self.db)
        if self.keys.replace(keys):
            self.tokens.forget_all()
        self._revoked = revoked

    async def _reload_for_kid(self, kid: str) -> None:
        async with self._reload_lock:
            fresh = time.monotonic() - self._reloaded_at < self.settings.key_reload_floor_seconds
            if not self.tokens.knows(kid) and not fresh:
                await self._reload()

    @property
    def ready(self) -> bool:
        """True once a key can sign tokens."""
        return self.keys.signing_key() is not None

    # --- per request -----------------------------------------------------------------------

    async def authenticate(self, authorization: str | None, request_id: str) -> Principal | None:
        """The principal of a valid bearer credential, else None."""
        if not authorization:
            return None
        scheme, _, credential = authorization.partition(" ")
        credential = credential.strip()
        if scheme.lower() != "bearer" or not credential:
            return None
        grant = await self.verify(credential)
        return grant.principal(request_id) if grant is not None else None

    async def verify(self, credential: str) -> Grant | None:
        """The grant of an API key or token, else None (the reason is logged)."""
        if credential.startswith(API_KEY_PREFIX):
            return await self.api_keys.verify(credential)
        grant = self.tokens.remembered(credential)
        try:
            if grant is None:
                grant = await self._verify_jwt(credential)
        except InvalidTokenError as exc:
            _log.info("auth: token refused: %s", exc)
            return None
        if grant.subject in self._revoked:
            _log.info("auth: token of revoked client %s refused", grant.subject)
            return None
        return grant

    async def _verify_jwt(self, token: str) -> Grant:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise InvalidTokenError(f"not a JWT: {exc}") from exc
        kid = str(header.get("kid"))
        if self.tokens.knows(kid):
            return self.tokens.verify(token, header)
        issuer = _unverified_issuer(token)
        if issuer == self.settings.token_issuer:
            await self._reload_for_kid(kid)
            return self.tokens.verify(token, header)
        if self.external is not None and issuer == self.external.issuer:
            return await self.external.verify(token, header)
        raise InvalidTokenError(f"unknown issuer {issuer!r}")


def _unverified_issuer(token: str) -> str | None:
    """``iss`` before any check, only to choose whose keys to check the token with."""
    try:
        claims = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError:
        return None
    issuer = claims.get("iss")
    return issuer if isinstance(issuer, str) else None
