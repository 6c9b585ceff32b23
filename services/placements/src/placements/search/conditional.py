"""``ETag`` and ``If-None-Match`` for reads that portals poll.

The ETag is a strong validator: a hash of the exact bytes of the representation. Any
change to what the caller would receive — a listed offer's free places, a new offer on
the page, a renamed provider, another next_cursor — changes the bytes and so the tag; a
change that leaves the response identical leaves it alone, which is exactly what a cache
needs. The database is still read on every poll: a 304 saves the transfer and the
client's work, not the query.
"""

from __future__ import annotations

import hashlib
from typing import Final

from fastapi import Response

#: Portals may keep a copy but must revalidate it before every use; ``private`` because
#: what a caller sees depends on who it is (partner-only offers).
CACHE_CONTROL: Final = "private, max-age=0, must-revalidate"


def etag_of(body: bytes) -> str:
    """A strong entity tag for ``body`` (128 bits of SHA-256, quoted)."""
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def none_match(if_none_match: str | None, etag: str) -> bool:
    """True when ``If-None-Match`` lists ``etag`` (or is ``*``): answer 304.

    RFC 9110 §13.1.2 compares weakly here, so a ``W/`` prefix the client or an
    intermediary added does not defeat the match.
    """
    if if_none_match is None:
        return False
    candidates = [tag.strip() for tag in if_none_match.split(",")]
    return "*" in candidates or any(tag.removeprefix("W/") == etag for tag in candidates)


def conditional_json(body: bytes, if_none_match: str | None) -> Response:
    """A 200 with ``body`` as JSON, or a bodiless 304 when the client's copy is current."""
    etag = etag_of(body)
    headers = {"ETag": etag, "Cache-Control": CACHE_CONTROL}
    if none_match(if_none_match, etag):
        return Response(status_code=304, headers=headers)
    return Response(content=body, media_type="application/json", headers=headers)
