"""Internal identity tokens: only the gateway's key, only EdDSA, only unexpired."""

from __future__ import annotations

import base64
import json
import time
import uuid

import jwt
import pytest
from vfu_common.internal_token import (
    InternalTokenMinter,
    InternalTokenSigner,
    InternalTokenVerifier,
    InvalidIdentityError,
    generate_keypair,
)
from vfu_common.principal import Principal
from vfu_testing.tokens import mint_internal_token, test_keypair


@pytest.fixture
def verifier() -> InternalTokenVerifier:
    return InternalTokenVerifier(test_keypair()[1])


def test_round_trip_keeps_the_principal(verifier: InternalTokenVerifier) -> None:
    org = uuid.uuid4()
    signer = InternalTokenSigner(test_keypair()[0])
    token = signer.mint(
        Principal(
            subject="c1", organisation_id=org, roles=frozenset({"university"}), request_id="r1"
        )
    )
    principal = verifier.verify(token)
    assert principal == Principal(
        subject="c1", organisation_id=org, roles=frozenset({"university"}), request_id="r1"
    )


def test_expired_token_is_refused(verifier: InternalTokenVerifier) -> None:
    with pytest.raises(InvalidIdentityError):
        verifier.verify(mint_internal_token(ttl_seconds=-60))


def test_token_from_another_key_is_refused(verifier: InternalTokenVerifier) -> None:
    other_private, _ = generate_keypair()
    with pytest.raises(InvalidIdentityError):
        verifier.verify(mint_internal_token(private_key_pem=other_private))


def test_tampered_payload_is_refused(verifier: InternalTokenVerifier) -> None:
    header, payload, signature = mint_internal_token(roles={"portal"}).split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["roles"] = ["admin"]
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    with pytest.raises(InvalidIdentityError):
        verifier.verify(f"{header}.{forged}.{signature}")


def test_alg_none_is_refused(verifier: InternalTokenVerifier) -> None:
    claims = jwt.decode(mint_internal_token(), options={"verify_signature": False})
    unsigned = jwt.encode(claims, None, algorithm="none")  # type: ignore[arg-type]
    with pytest.raises(InvalidIdentityError):
        verifier.verify(unsigned)


def test_hmac_with_public_key_as_secret_is_refused(verifier: InternalTokenVerifier) -> None:
    """Key confusion: an HS256 token 'signed' with the public key must not pass."""
    claims = jwt.decode(mint_internal_token(), options={"verify_signature": False})
    header = base64.urlsafe_b64encode(b'{"alg":"HS256","typ":"JWT"}').decode().rstrip("=")
    body = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    import hashlib
    import hmac

    mac = hmac.new(test_keypair()[1].encode(), f"{header}.{body}".encode(), hashlib.sha256)
    signature = base64.urlsafe_b64encode(mac.digest()).decode().rstrip("=")
    with pytest.raises(InvalidIdentityError):
        verifier.verify(f"{header}.{body}.{signature}")


def test_unknown_role_is_refused(verifier: InternalTokenVerifier) -> None:
    claims = jwt.decode(mint_internal_token(), options={"verify_signature": False})
    claims["roles"] = ["superuser"]
    from cryptography.hazmat.primitives import serialization

    key = serialization.load_pem_private_key(test_keypair()[0].encode(), password=None)
    with pytest.raises(InvalidIdentityError):
        verifier.verify(jwt.encode(claims, key, algorithm="EdDSA"))  # type: ignore[arg-type]


def test_garbage_is_refused(verifier: InternalTokenVerifier) -> None:
    with pytest.raises(InvalidIdentityError):
        verifier.verify("not-a-token")


class FakeClock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


def test_a_remembered_token_is_still_refused_once_expired() -> None:
    clock = FakeClock()
    verifier = InternalTokenVerifier(test_keypair()[1], leeway_seconds=5, clock=clock)
    token = mint_internal_token(ttl_seconds=60)
    assert verifier.verify(token).subject  # verified, and now remembered
    clock.now += 60 + 5 - 1
    assert verifier.verify(token).subject
    clock.now += 2
    with pytest.raises(InvalidIdentityError, match="expired"):
        verifier.verify(token)
    with pytest.raises(InvalidIdentityError, match="expired"):
        verifier.verify(token)  # forgotten, decoded again, refused by the same clock


def test_a_refused_token_is_not_remembered(verifier: InternalTokenVerifier) -> None:
    other_private, _ = generate_keypair()
    forged = mint_internal_token(private_key_pem=other_private)
    for _ in range(2):
        with pytest.raises(InvalidIdentityError):
            verifier.verify(forged)


def test_a_full_cache_stays_bounded_and_keeps_verifying() -> None:
    clock = FakeClock()
    verifier = InternalTokenVerifier(test_keypair()[1], cache_size=2, clock=clock)
    for i in range(5):
        token = mint_internal_token(subject=f"c{i}", ttl_seconds=60)
        assert verifier.verify(token).subject == f"c{i}"
        assert len(verifier._verified) <= 2


class CountingSigner(InternalTokenSigner):
    minted = 0

    def mint(self, principal: Principal) -> str:
        self.minted += 1
        return super().mint(principal)


def test_the_minter_reuses_a_token_per_principal_until_half_its_life() -> None:
    clock = FakeClock()
    signer = CountingSigner(test_keypair()[0], ttl_seconds=60)
    minter = InternalTokenMinter(signer, clock=clock)
    org = uuid.uuid4()
    alice = Principal(subject="a", organisation_id=org, roles=frozenset({"university"}))
    first = minter.token_for(alice.model_copy(update={"request_id": "r1"}))
    assert minter.token_for(alice.model_copy(update={"request_id": "r2"})) == first
    assert signer.minted == 1
    minter.token_for(alice.model_copy(update={"roles": frozenset({"portal"})}))
    minter.token_for(alice.model_copy(update={"subject": "b"}))
    assert signer.minted == 3, "another role set or subject is another principal"
    verified = InternalTokenVerifier(test_keypair()[1]).verify(first)
    assert verified == alice, "the request id travels in X-Request-ID, not in the token"
    clock.now += 29
    minter.token_for(alice)
    assert signer.minted == 3
    clock.now += 2  # past half of the 60 s: a fresh token, valid for 60 s more
    minter.token_for(alice)
    assert signer.minted == 4
