"""Header hygiene between the outside world and the services."""

from __future__ import annotations

from collections.abc import Iterable

# RFC 9110 §7.6.1 hop-by-hop headers: meaningful for one connection only.
HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailer",
        "trailers",
        "transfer-encoding",
        "upgrade",
        "proxy-connection",
    }
)
# Identity must come only from the gateway's signed token; a client could otherwise
# claim to be anyone to a service that trusted a plain header.
_IDENTITY_PREFIXES = (
    "x-vfu-",
    "x-user",
    "x-organisation",
    "x-organization",
    "x-auth",
    "x-roles",
    "x-forwarded-user",
    "x-remote-user",
    "remote-user",
    "x-principal",
    "x-client-id",
)
# Set by the gateway itself, or meaningless to pass on.
_REPLACED = frozenset(
    {
        "host",
        "authorization",
        "x-request-id",
        "x-forwarded-for",
        "x-forwarded-proto",
        "x-forwarded-host",
        "content-length",
        "cookie",
    }
)


def _connection_tokens(headers: Iterable[tuple[bytes, bytes]]) -> set[str]:
    tokens: set[str] = set()
    for name, value in headers:
        if name.lower() == b"connection":
            tokens.update(t.strip().lower() for t in value.decode("latin-1").split(","))
    return tokens


def is_identity_header(name: str) -> bool:
    """True for headers a client might use to spoof identity."""
    return name.startswith(_IDENTITY_PREFIXES)


def upstream_request_headers(raw: list[tuple[bytes, bytes]]) -> list[tuple[str, str]]:
    """Client headers that may travel on to a service (lower-cased names)."""
    dropped = HOP_BY_HOP | _connection_tokens(raw) | _REPLACED
    kept = []
    for name_b, value_b in raw:
        name = name_b.decode("latin-1").lower()
        if name in dropped or is_identity_header(name):
            continue
        kept.append((name, value_b.decode("latin-1")))
    return kept


def downstream_response_headers(raw: Iterable[tuple[str, str]]) -> list[tuple[bytes, bytes]]:
    """Service response headers that may travel back to the client."""
    pairs = list(raw)
    # The gateway's own server stamps Server and Date; passing the upstream's would double them.
    dropped = (
        HOP_BY_HOP
        | {"server", "date"}
        | {
            t
            for n, v in pairs
            if n.lower() == "connection"
            for t in (x.strip().lower() for x in v.split(","))
        }
    )
    return [
        (n.lower().encode("latin-1"), v.encode("latin-1"))
        for n, v in pairs
        if n.lower() not in dropped
    ]
