"""One holder at a time for singleton work such as the outbox relay."""

from __future__ import annotations

import asyncio

import pytest
from vfu_common.db import Database
from vfu_common.messaging.lease import Lease

# Concurrency and fault tests: `make stress` runs them 20 times in a row.
pytestmark = pytest.mark.stress


async def test_only_one_replica_holds_the_lease(db: Database) -> None:
    first, second = Lease(db, "relay", ttl_seconds=30), Lease(db, "relay", ttl_seconds=30)
    assert await first.acquire()
    assert not await second.acquire()
    assert await first.acquire(), "the holder renews"
    assert not await second.acquire()


async def test_concurrent_acquisitions_elect_exactly_one(db: Database) -> None:
    leases = [Lease(db, "relay", ttl_seconds=30) for _ in range(10)]
    results = await asyncio.gather(*(lease.acquire() for lease in leases))
    assert sum(results) == 1


async def test_expired_lease_is_taken_over(db: Database) -> None:
    first, second = Lease(db, "relay", ttl_seconds=0.2), Lease(db, "relay", ttl_seconds=0.2)
    assert await first.acquire()
    await asyncio.sleep(0.3)
    assert await second.acquire()
    assert not await first.acquire()


async def test_released_lease_is_free_at_once(db: Database) -> None:
    first, second = Lease(db, "relay", ttl_seconds=30), Lease(db, "relay", ttl_seconds=30)
    assert await first.acquire()
    await first.release()
    assert await second.acquire()


async def test_leases_are_per_name(db: Database) -> None:
    assert await Lease(db, "relay:a").acquire()
    assert await Lease(db, "relay:b").acquire()
