"""Fixtures of the vfu_domain tests."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from vfu_common.db import Database
from vfu_domain import organisation_projection


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    """A Database with the organisation read model's tables created."""
    database = Database(database_url)
    async with database.write_engine.begin() as conn:
        await conn.run_sync(organisation_projection.metadata.create_all)
    yield database
    await database.dispose()
