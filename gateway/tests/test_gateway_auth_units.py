"""Unit tests of single functions: secret hashing, key selection, role grants."""

from __future__ import annotations

import base64
from datetime import timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from gateway.auth.grants import GrantError, check_roles, parse_roles, roles_text
from gateway.auth.hashing import hash_secret, keyed_hash, new_salt, verify_secret
from gateway.auth.keys import KeyRing, SigningKey, public_jwk, thumbprint
from vfu_common.utc import utcnow


def test_scrypt_hashes_are_salted_self_describing_and_verify() -> None:
    first, second = hash_secret("s3cret"), hash_secret("s3cret")
    assert first != second  # salted
    scheme, n, r, p, _salt, _digest = first.split("$")
    assert (scheme, int(n), int(r), int(p)) == ("scrypt", 2**15, 8, 1)
    assert verify_secret("s3cret", first)
    assert verify_secret("s3cret", second)
    assert not verify_secret("s3cret ", first)
    assert not verify_secret("", first)


@pytest.mark.parametrize(
    "encoded", ["", "scrypt$1$2$3", "bcrypt$16384$8$1$AAAA$AAAA", "scrypt$x$8$1$AAAA$AAAA"]
)
def test_malformed_hashes_never_verify(encoded: str) -> None:
    assert not verify_secret("anything", encoded)


def test_keyed_hash_depends_on_salt_and_secret() -> None:
    salt = new_salt()
    assert keyed_hash("abc", salt) == keyed_hash("abc", salt)
    assert keyed_hash("abc", salt) != keyed_hash("abd", salt)
    assert keyed_hash("abc", salt) != keyed_hash("abc", new_salt())


def _key(*, activates_in: float = 0, retired: bool = False, private: bool = True) -> SigningKey:
    secret = Ed25519PrivateKey.generate()
    kid = thumbprint(secret.public_key())
    now = utcnow()
    return SigningKey(
        kid=kid,
        public_key=secret.public_key(),
        jwk=public_jwk(secret.public_key(), kid),
        private_key=secret if private else None,
        created_at=now,
        activates_at=now + timedelta(seconds=activates_in),
        retired_at=now if retired else None,
    )


def test_the_newest_active_key_signs_and_every_live_key_is_published() -> None:
    older, newer = _key(activates_in=-120), _key(activates_in=-60)
    pending, retired = _key(activates_in=3600), _key(activates_in=-30, retired=True)
    ring = KeyRing([newer, pending, older, retired])
    signer = ring.signing_key()
    assert signer is not None
    assert signer.kid == newer.kid
    assert [k["kid"] for k in ring.jwks()["keys"]] == [older.kid, newer.kid, pending.kid]
    assert ring.public_key(retired.kid) is None
    assert ring.public_key(older.kid) is older.public_key
    assert KeyRing([pending]).signing_key() is None
    assert KeyRing([_key(private=False)]).signing_key() is None


def test_replace_reports_whether_the_set_of_keys_changed() -> None:
    a, b = _key(), _key()
    ring = KeyRing([a])
    assert not ring.replace([a])
    assert ring.replace([a, b])
    assert ring.replace([b])
    assert len(ring) == 1


def test_thumbprint_is_rfc7638() -> None:
    # RFC 8037 appendix A.3: the thumbprint of its example Ed25519 key.

    x = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"
    raw = base64.urlsafe_b64decode(x + "=")
    assert thumbprint(Ed25519PublicKey.from_public_bytes(raw)) == (
        "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"
    )
    assert public_jwk(Ed25519PublicKey.from_public_bytes(raw), "k")["x"] == x


def test_roles_grants() -> None:
    assert check_roles(["university", "university"]) == {"university"}
    assert parse_roles(roles_text(["provider", "coordinator"])) == {"coordinator", "provider"}
    assert roles_text(["provider", "coordinator"]) == "coordinator provider"
    for bad in ([], ["system"], ["root"]):
        with pytest.raises(GrantError):
            check_roles(bad)
