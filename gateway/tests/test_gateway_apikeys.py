"""Portal API keys over real HTTP: format, hashed storage, lookup, revocation latency."""

from __future__ import annotations

import asyncio
import re
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from gateway.auth.apikeys import (
    API_KEY_PREFIX,
    create_api_key,
    list_api_keys,
    parse_api_key,
    revoke_api_key,
)
from gateway.auth.grants import GrantError
from gateway_kit import AuthStore, migrate_store, provision
from sqlalchemy import text
from vfu_common.db import Database
from vfu_testing.databases import sqlite_url

GatewayClient = Callable[..., Any]
API = "/api/v1/agreements/x"
KEY_FORMAT = re.compile(r"^vfu_pk_[a-z0-9]{8}_[A-Za-z0-9]{40}$")
ORGANISATION = uuid.UUID("0190a0b0-0000-7000-8000-0000000000aa")


async def _with_db(url: str, action: Callable[[Database], Any]) -> Any:
    db = Database(url)
    try:
        return await action(db)
    finally:
        await db.dispose()


def _bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


async def test_api_key_authenticates_as_the_portal_of_its_organisation(
    store: AuthStore, run_gateway: GatewayClient
) -> None:
    stored, key = await _with_db(
        store.database_url,
        lambda db: create_api_key(
            db, name="Studentportalen", organisation_id=ORGANISATION, roles=["portal"]
        ),
    )
    assert KEY_FORMAT.match(key), key
    assert key.startswith(f"{API_KEY_PREFIX}{stored.key_id}_")
    async with run_gateway(store.database_url) as http:
        response = await http.get(API, headers=_bearer(key))
    assert response.status_code == 200, response.text
    assert response.json() == {
        "subject": f"apikey:{stored.key_id}",
        "organisation_id": str(ORGANISATION),
        "roles": ["portal"],
    }


async def test_near_misses_of_a_key_are_refused(
    store: AuthStore, run_gateway: GatewayClient
) -> None:
    key = store.api_key
    key_id, secret = key[len(API_KEY_PREFIX) :].split("_", 1)
    near_misses = [
        key[:-1] + ("A" if key[-1] != "A" else "B"),  # one character of the secret
        key + "x",
        key[:-1],
        f"{API_KEY_PREFIX}{'z' * 8}_{secret}",  # another id, the same secret
        f"{API_KEY_PREFIX}{key_id.upper()}_{secret}",
        f"vfu_pX_{key_id}_{secret}",
        f"{API_KEY_PREFIX}{key_id}-{secret}",
        secret,
    ]
    async with run_gateway(store.database_url) as http:
        assert (await http.get(API, headers=_bearer(key))).status_code == 200
        for candidate in near_misses:
            response = await http.get(API, headers=_bearer(candidate))
            assert response.status_code == 401, candidate


async def test_keys_are_stored_hashed(store: AuthStore) -> None:
    async def rows(db: Database) -> list[Any]:
        async with db.read() as session:
            return list(await session.execute(text("SELECT * FROM api_keys")))

    secret = store.api_key.split("_", 3)[3]
    for row in await _with_db(store.database_url, rows):
        assert all(secret not in str(value) for value in row)
        assert len(row.key_hash) == 64  # HMAC-SHA256, hex


async def test_revocation_reaches_a_running_gateway_within_the_cache_time(
    store: AuthStore, run_gateway: GatewayClient
) -> None:
    cache_seconds = 0.5
    key_id = store.api_key.split("_")[2]
    async with run_gateway(store.database_url, api_key_cache_seconds=cache_seconds) as http:
        assert (await http.get(API, headers=_bearer(store.api_key))).status_code == 200
        assert await _with_db(store.database_url, lambda db: revoke_api_key(db, key_id))
        revoked_at = time.monotonic()
        while (await http.get(API, headers=_bearer(store.api_key))).status_code == 200:
            assert time.monotonic() - revoked_at < cache_seconds + 1.0, "still accepted"
            await asyncio.sleep(0.05)
    listed = await _with_db(store.database_url, list_api_keys)
    assert [k.revoked_at is not None for k in listed if k.key_id == key_id] == [True]
    assert not await _with_db(store.database_url, lambda db: revoke_api_key(db, key_id))


async def test_api_keys_grant_only_the_portal_role(store: AuthStore) -> None:
    for roles in (["admin"], ["portal", "university"], [], ["system"]):
        with pytest.raises(GrantError):
            await _with_db(
                store.database_url,
                lambda db, roles=roles: create_api_key(
                    db, name="x", organisation_id=None, roles=roles
                ),
            )


@pytest.mark.parametrize(
    ("text_", "parsed"),
    [
        ("vfu_pk_abcd1234_" + "A" * 40, ("abcd1234", "A" * 40)),
        ("vfu_pk_abcd1234_" + "A" * 39, None),
        ("vfu_pk_abcd1234_" + "A" * 41, None),
        ("vfu_pk_abcd123_" + "A" * 41, None),
        ("vfu_pk_abcd1234_" + "A" * 39 + "-", None),
        ("vfu_pk_ABCD1234_" + "A" * 40, None),
        ("vfu_pk_abcd1234" + "A" * 41, None),
        ("", None),
    ],
)
def test_parse_api_key(text_: str, parsed: tuple[str, str] | None) -> None:
    assert parse_api_key(text_) == parsed


async def test_unknown_key_ids_are_refused_without_error(
    auth_store: AuthStore, run_gateway: GatewayClient
) -> None:
    async with run_gateway(auth_store.database_url) as http:
        responses = await asyncio.gather(
            *(
                http.get(API, headers=_bearer(f"{API_KEY_PREFIX}{i:08d}_{'a' * 40}"))
                for i in range(20)
            )
        )
    assert {r.status_code for r in responses} == {401}


async def test_an_unreachable_store_is_503_not_401_and_tokens_still_work(
    tmp_path: Path, run_gateway: GatewayClient
) -> None:
    url = sqlite_url(tmp_path, "gateway")
    await asyncio.to_thread(migrate_store, url)
    store = await provision(url)
    _, unseen = await _with_db(
        url, lambda db: create_api_key(db, name="p2", organisation_id=None, roles=["portal"])
    )
    async with run_gateway(url, api_key_cache_seconds=0.2) as http:
        assert (await http.get(API, headers=_bearer(store.api_key))).status_code == 200

        async def break_store(db: Database) -> None:
            async with db.write() as session:
                await session.execute(text("DROP TABLE api_keys"))
                await session.execute(text("DROP TABLE oauth_clients"))

        await _with_db(url, break_store)
        await asyncio.sleep(0.3)  # past the cache time: every key must be looked up again
        never_seen = await http.get(API, headers=_bearer(unseen))
        seen_before = await http.get(API, headers=_bearer(store.api_key))
        token = await http.get(API, headers=store.auth)
        issued = await http.post(
            "/oauth/token",
            data={"grant_type": "client_credentials"},
            auth=(store.client_id, store.client_secret),
        )
    assert never_seen.status_code == 503, never_seen.text
    assert never_seen.json()["code"] == "auth_unavailable"
    assert never_seen.headers["retry-after"]
    assert seen_before.status_code == 200  # its last answer stands while the store is away
    assert token.status_code == 200  # tokens need no store
    assert issued.status_code == 503
    assert issued.json()["error"] == "temporarily_unavailable"
