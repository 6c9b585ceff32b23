"""Fixtures of the vfu_common tests."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from messaging_testkit import test_metadata
from vfu_common.db import Database
from vfu_common.messaging import tables as messaging


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    """A Database with the messaging and test tables created."""
    database = Database(database_url)
    async with database.write_engine.begin() as conn:
        await conn.run_sync(messaging.metadata.create_all)
        await conn.run_sync(test_metadata.create_all)
    yield database
    await database.dispose()
