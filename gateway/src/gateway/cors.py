"""CORS for the student portals: an exact allow-list of origins, nothing else.

Portals send ``Authorization: Bearer``, not cookies, so credentials mode is never allowed
and ``*`` is never sent: an origin is allowed when it is on the list, byte for byte.
"""

from __future__ import annotations

from collections.abc import Iterable

ALLOWED_METHODS = b"GET, POST, PATCH, DELETE"
ALLOWED_HEADERS = b"Authorization, Content-Type, Idempotency-Key, If-None-Match, X-Request-ID"
# Response headers a portal's script may read besides the CORS-safelisted ones.
EXPOSED_HEADERS = b"ETag, Location, Retry-After, X-Request-ID"
MAX_AGE = b"600"


class CorsPolicy:
    """Which origins may call the API from a browser, and the headers that say so."""

    def __init__(self, origins: Iterable[str]) -> None:
        self._origins = frozenset(o.encode("latin-1") for o in origins)

    @property
    def enabled(self) -> bool:
        """No origins configured: the gateway sends no CORS headers at all."""
        return bool(self._origins)

    def allows(self, origin: bytes | None) -> bool:
        """True for an origin on the list."""
        return origin is not None and origin in self._origins

    def preflight_headers(self, origin: bytes | None) -> list[tuple[bytes, bytes]]:
        """Headers of the gateway's answer to a preflight (none for other origins)."""
        if not self.allows(origin):
            return [(b"vary", b"Origin")]
        assert origin is not None
        return [
            (b"access-control-allow-origin", origin),
            (b"access-control-allow-methods", ALLOWED_METHODS),
            (b"access-control-allow-headers", ALLOWED_HEADERS),
            (b"access-control-max-age", MAX_AGE),
            (b"vary", b"Origin"),
        ]

    def response_headers(self, origin: bytes | None) -> list[tuple[bytes, bytes]]:
        """CORS headers of an ordinary response to ``origin``."""
        if not self.allows(origin):
            return []
        assert origin is not None
        return [
            (b"access-control-allow-origin", origin),
            (b"access-control-expose-headers", EXPOSED_HEADERS),
        ]


def is_preflight(scope_method: str, headers: Iterable[tuple[bytes, bytes]]) -> bool:
    """An OPTIONS request carrying Origin and Access-Control-Request-Method."""
    if scope_method != "OPTIONS":
        return False
    names = {name for name, _ in headers}
    return b"origin" in names and b"access-control-request-method" in names
