"""The internal identity token: who is calling, as vouched for by the gateway.

The gateway authenticates the outside caller and forwards a short-lived EdDSA-signed JWT
in ``X-VFU-Identity``. Services hold only the public key, so a compromised service
cannot mint identities, and a service reached directly without the gateway refuses the
call. The algorithm is pinned on verification (no ``alg`` confusion, no ``none``).
"""

from __future__ import annotations

import sys
import time
import uuid
from collections.abc import Callable, Iterable
from pathlib import Path

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from vfu_common.principal import ROLES, Principal

INTERNAL_HEADER = "x-vfu-identity"
ISSUER = "vfu-gateway"
AUDIENCE = "vfu-services"
ALGORITHM = "EdDSA"


class InvalidIdentityError(Exception):
    """The internal token is missing, expired, forged or malformed."""


def generate_keypair() -> tuple[str, str]:
    """A new Ed25519 key pair as (private PEM, public PEM)."""
    key = Ed25519PrivateKey.generate()
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private, public


class InternalTokenSigner:
    """Mints internal tokens (gateway side)."""

    def __init__(self, private_key_pem: str, *, ttl_seconds: int = 60) -> None:
        key = serialization.load_pem_private_key(private_key_pem.encode(), password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise ValueError("internal tokens need an Ed25519 private key")
        self._key = key
        self.ttl = ttl_seconds

    def mint(self, principal: Principal) -> str:
        """A signed token carrying ``principal``; valid for ``ttl_seconds``."""
        now = int(time.time())
        claims = {
            "iss": ISSUER,
            "aud": AUDIENCE,
            "sub": principal.subject,
            "org": str(principal.organisation_id) if principal.organisation_id else None,
            "roles": sorted(principal.roles),
            "rid": principal.request_id,
            "iat": now,
            "exp": now + self.ttl,
        }
        return jwt.encode(claims, self._key, algorithm=ALGORITHM)


class InternalTokenVerifier:
    """Verifies internal tokens (service side).

    A token that verified is remembered until it expires (at most ``cache_size`` of
    them): the gateway reuses one token per principal for a while
    (``InternalTokenMinter``), and checking an Ed25519 signature costs more than the
    rest of a primary-key read. A remembered token is still refused once expired.
    """

    def __init__(
        self,
        public_key_pem: str,
        *,
        leeway_seconds: int = 5,
        cache_size: int = 4096,
        clock: Callable[[], float] = time.time,
    ) -> None:
        key = serialization.load_pem_public_key(public_key_pem.encode())
        if not isinstance(key, Ed25519PublicKey):
            raise ValueError("internal tokens need an Ed25519 public key")
        self._key = key
        self.leeway = leeway_seconds
        self._cache_size = cache_size
        self._clock = clock
        self._verified: dict[str, tuple[Principal, float]] = {}

    def verify(self, token: str) -> Principal:
        """Return the principal of a valid token; raise InvalidIdentityError otherwise."""
        known = self._verified.get(token)
        if known is not None:
            principal, expires_at = known
            if self._clock() <= expires_at + self.leeway:
                return principal
            del self._verified[token]
        principal, expires_at = self._decode(token)
        # The same clock decides for fresh and remembered tokens (the library has its own).
        if self._clock() > expires_at + self.leeway:
            raise InvalidIdentityError("Signature has expired")
        if len(self._verified) >= self._cache_size:
            self._forget_expired()
        self._verified[token] = (principal, expires_at)
        return principal

    def _forget_expired(self) -> None:
        now = self._clock()
        for token, (_, expires_at) in list(self._verified.items()):
            if now > expires_at + self.leeway:
                del self._verified[token]
        if len(self._verified) >= self._cache_size:
            self._verified.clear()  # all live: start again rather than grow

    def _decode(self, token: str) -> tuple[Principal, float]:
        try:
            claims = jwt.decode(
                token,
                self._key,
                algorithms=[ALGORITHM],
                audience=AUDIENCE,
                issuer=ISSUER,
                leeway=self.leeway,
                options={"require": ["exp", "iat", "iss", "aud", "sub"]},
            )
            principal = Principal(
                subject=claims["sub"],
                organisation_id=uuid.UUID(claims["org"]) if claims.get("org") else None,
                roles=frozenset(_known_roles(claims.get("roles", []))),
                request_id=claims.get("rid"),
            )
            return principal, float(claims["exp"])
        except (jwt.PyJWTError, ValueError, TypeError, KeyError) as exc:
            raise InvalidIdentityError(str(exc)) from exc


class InternalTokenMinter:
    """Hands out one internal token per principal until half its lifetime has passed.

    The gateway forwards every request with a token; minting (signing) each one, and
    every service verifying each one, cost more than a primary-key read. A token
    carries the principal only (the request id travels in ``X-Request-ID``), so one
    token serves every request of that principal while it is fresh. Replaying a token
    gains nothing new: any token was valid for its whole lifetime anyway.
    """

    def __init__(
        self,
        signer: InternalTokenSigner,
        *,
        cache_size: int = 4096,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.signer = signer
        self._cache_size = cache_size
        self._clock = clock
        self._tokens: dict[tuple[str, uuid.UUID | None, frozenset[str]], tuple[str, float]] = {}

    def token_for(self, principal: Principal) -> str:
        """A fresh token carrying ``principal`` (its request id left out)."""
        key = (principal.subject, principal.organisation_id, principal.roles)
        now = self._clock()
        cached = self._tokens.get(key)
        if cached is not None and now < cached[1]:
            return cached[0]
        token = self.signer.mint(principal.model_copy(update={"request_id": None}))
        if len(self._tokens) >= self._cache_size:
            self._tokens.clear()
        self._tokens[key] = (token, now + self.signer.ttl / 2)
        return token


def _known_roles(roles: Iterable[str]) -> Iterable[str]:
    for role in roles:
        if role not in ROLES:
            raise ValueError(f"unknown role {role!r}")
        yield role


# --- the key pair on disk (``python -m vfu_common.internal_token DIR``) ---------------

PRIVATE_KEY_FILE = "internal_private.pem"
PUBLIC_KEY_FILE = "internal_public.pem"


def ensure_keypair(directory: Path) -> tuple[Path, Path]:
    """Create the key pair in ``directory`` unless both files exist; return their paths."""
    directory.mkdir(parents=True, exist_ok=True)
    private, public = directory / PRIVATE_KEY_FILE, directory / PUBLIC_KEY_FILE
    if not (private.exists() and public.exists()):
        private_pem, public_pem = generate_keypair()
        private.write_text(private_pem)
        private.chmod(0o600)
        public.write_text(public_pem)
    return private, public


def main(argv: list[str]) -> int:
    """CLI entry point."""
    if len(argv) != 1:
        print("usage: python -m vfu_common.internal_token DIR", file=sys.stderr)
        return 2
    private, public = ensure_keypair(Path(argv[0]))
    print(f"internal token keys: {private} {public}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
