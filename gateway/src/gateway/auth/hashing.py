"""Secret hashing: scrypt for OAuth client secrets, a keyed hash for API keys (ADR 13).

scrypt is slow on purpose (about 0.1 s and 32 MiB per check), so it runs in a small pool
of its own: a burst of token requests waits there instead of blocking the event loop or
filling the default executor that aiohttp's DNS lookups use.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import secrets
from concurrent.futures import ThreadPoolExecutor
from functools import cache

# N=2^15, r=8, p=1: 32 MiB per hash, ~0.1 s on our machines. Stored with each hash, so
# raising them later leaves existing hashes verifiable.
SCRYPT_N = 2**15
SCRYPT_R = 8
SCRYPT_P = 1
_SCRYPT_MAXMEM = 128 * 1024 * 1024
_SALT_BYTES = 16
_HASH_BYTES = 32
# Two at a time: bounds memory (2 x 32 MiB) and leaves CPU for proxying.
_POOL = ThreadPoolExecutor(max_workers=2, thread_name_prefix="scrypt")


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _scrypt(secret: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(
        secret.encode(), salt=salt, n=n, r=r, p=p, maxmem=_SCRYPT_MAXMEM, dklen=_HASH_BYTES
    )


def hash_secret(secret: str) -> str:
    """``scrypt$n$r$p$salt$hash`` (base64) of ``secret``, with a fresh salt."""
    salt = secrets.token_bytes(_SALT_BYTES)
    digest = _scrypt(secret, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P)
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${_b64(salt)}${_b64(digest)}"


def verify_secret(secret: str, encoded: str) -> bool:
    """True when ``secret`` hashes to ``encoded``; constant-time comparison."""
    try:
        scheme, n, r, p, salt, digest = encoded.split("$")
        if scheme != "scrypt":
            return False
        computed = _scrypt(secret, base64.b64decode(salt), int(n), int(r), int(p))
        return hmac.compare_digest(computed, base64.b64decode(digest))
    except (ValueError, TypeError):
        return False


@cache
def dummy_hash() -> str:
    """A hash to verify against when a client id is unknown.

    So that answer takes as long as a wrong secret, and response times do not tell which
    client ids exist. Made on first use: importing this module stays cheap.
    """
    return hash_secret(secrets.token_urlsafe(32))


async def verify_secret_off_loop(secret: str, encoded: str) -> bool:
    """``verify_secret`` in the hashing pool."""
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(_POOL, verify_secret, secret, encoded)


def new_salt() -> str:
    """A random salt for an API key hash (hex)."""
    return secrets.token_hex(_SALT_BYTES)


def keyed_hash(secret: str, salt_hex: str) -> str:
    """HMAC-SHA256 of an API key's secret part under its salt (hex).

    Fast on purpose: API keys are checked on every call, and their 230+ random bits make
    a slow hash pointless; nobody can search that space from a leaked hash.
    """
    return hmac.new(bytes.fromhex(salt_hex), secret.encode(), hashlib.sha256).hexdigest()
