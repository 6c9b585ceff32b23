"""Helpers for tests: a fixed-per-process key pair and an internal-token minter."""

from __future__ import annotations

import uuid
from functools import cache

from vfu_common.internal_token import INTERNAL_HEADER, InternalTokenSigner, generate_keypair
from vfu_common.principal import Principal


@cache
def test_keypair() -> tuple[str, str]:
    """One Ed25519 key pair per test process: (private PEM, public PEM)."""
    return generate_keypair()


# Not a test, despite the name pytest collects by: tell pytest so where tests import it.
test_keypair.__test__ = False  # type: ignore[attr-defined]


def mint_internal_token(
    *,
    roles: frozenset[str] | set[str] = frozenset({"admin"}),
    organisation_id: uuid.UUID | None = None,
    subject: str = "test-client",
    private_key_pem: str | None = None,
    ttl_seconds: int = 60,
) -> str:
    """A valid internal token for the test key pair (or ``private_key_pem``)."""
    signer = InternalTokenSigner(private_key_pem or test_keypair()[0], ttl_seconds=ttl_seconds)
    principal = Principal(subject=subject, organisation_id=organisation_id, roles=frozenset(roles))
    return signer.mint(principal)


def identity_headers(**kwargs: object) -> dict[str, str]:
    """Headers carrying a freshly minted internal token."""
    return {INTERNAL_HEADER: mint_internal_token(**kwargs)}  # type: ignore[arg-type]
