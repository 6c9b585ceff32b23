"""Date-driven background work: a scheduler loop that runs in one replica at a time.

A service's scheduler acts in one replica at a time under a
database lease (ADR 2); the lease only saves work, because every step it runs must be a
conditional UPDATE that emits its event exactly once even when two schedulers tick at
once. Each object moves in its own transaction: a failing one is logged and retried on
the next tick without holding the others back.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable
from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from vfu_common.db import Database
from vfu_common.messaging.lease import Lease

DueQuery = Callable[[AsyncSession, date], Awaitable[list[uuid.UUID]]]
_log = logging.getLogger(__name__)


class LeasedScheduler:
    """Calls ``tick`` every ``interval_seconds`` while this replica holds the lease.

    Subclasses implement ``tick(today)`` with ``due`` (ids needing a step) and ``step``
    (one object's transition in its own transaction).
    """

    def __init__(
        self,
        db: Database,
        *,
        lease_name: str,
        interval_seconds: float,
        today: Callable[[], date],
        lease: Lease | None = None,
    ) -> None:
        self.db = db
        self.interval = interval_seconds
        self.today = today
        # The lease outlives a few ticks, so a holder keeps it between them.
        self.lease = lease or Lease(db, lease_name, ttl_seconds=max(15.0, interval_seconds * 3))

    async def tick(self, today: date | None = None) -> Any:
        """One pass over every due transition (subclasses)."""
        raise NotImplementedError

    async def run(self) -> None:
        """Tick forever (until cancelled) whenever this replica holds the lease."""
        try:
            while True:
                try:
                    if await self.lease.acquire():
                        await self.tick()
                except asyncio.CancelledError:
                    raise
                except Exception:
                    _log.exception("%s tick failed; retrying next interval", self.lease.name)
                await asyncio.sleep(self.interval)
        finally:
            await asyncio.shield(self._release())

    async def _release(self) -> None:
        try:
            await self.lease.release()
        except Exception:  # the lease expires by itself; shutting down must not fail on it
            _log.warning("could not release the lease %s", self.lease.name, exc_info=True)

    async def due(self, query: DueQuery, day: date) -> list[uuid.UUID]:
        """The ids ``query`` finds due on ``day``."""
        async with self.db.read() as session:
            return await query(session, day)

    async def step(
        self, step: Callable[..., Awaitable[object]], object_id: uuid.UUID, day: date
    ) -> bool:
        """Run one object's transition in its own transaction; True when it changed.

        ``step`` returns None or False when nothing was due any more (another replica
        acted first); an exception rolls back this object only.
        """
        try:
            async with self.db.write() as session:
                result = await step(session, object_id, today=day)
        except Exception:
            _log.exception("%s: scheduled transition of %s failed", self.lease.name, object_id)
            return False
        return result is not None and result is not False
