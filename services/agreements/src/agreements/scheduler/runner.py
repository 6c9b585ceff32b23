"""The agreement scheduler: activation, expiry, termination and expiry reminders by date.

One replica acts at a time, under the database lease ``agreements-scheduler`` (ADR 2).
The lease is an efficiency measure, not the safety net: each transition is a conditional
UPDATE, so even two schedulers acting at once (a lease handed over mid-tick) emit each
event exactly once. Each agreement moves in its own transaction, and a failing one is
logged and retried on the next tick, so it does not hold the others back.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy.ext.asyncio import AsyncSession
from vfu_common.db import Database
from vfu_common.messaging.lease import Lease
from vfu_common.service import ServiceRuntime

from agreements.agreements import repository, service
from agreements.agreements.clock import CLOCK
from agreements.settings import Settings

LEASE_NAME = "agreements-scheduler"
_log = logging.getLogger(__name__)


@dataclass
class TickReport:
    """What one tick changed (for logs and tests)."""

    activated: list[uuid.UUID] = field(default_factory=list)
    ended: list[uuid.UUID] = field(default_factory=list)
    reminded: list[uuid.UUID] = field(default_factory=list)


class AgreementScheduler:
    """Runs the date-driven transitions every ``interval_seconds`` while holding the lease."""

    def __init__(
        self,
        db: Database,
        *,
        interval_seconds: float = 60.0,
        reminder_days: int = 60,
        today: Callable[[], date] = CLOCK.today,
        lease: Lease | None = None,
    ) -> None:
        self.db = db
        self.interval = interval_seconds
        self.reminder_days = reminder_days
        self.today = today
        # The lease outlives a few ticks, so a holder keeps it between them.
        self.lease = lease or Lease(db, LEASE_NAME, ttl_seconds=max(15.0, interval_seconds * 3))

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
                    _log.exception("agreement scheduler tick failed; retrying next interval")
                await asyncio.sleep(self.interval)
        finally:
            await asyncio.shield(self._release())

    async def _release(self) -> None:
        try:
            await self.lease.release()
        except Exception:  # the lease expires by itself; shutting down must not fail on it
            _log.warning("could not release the scheduler lease", exc_info=True)

    async def tick(self, today: date | None = None) -> TickReport:
        """One pass over every due transition, as of ``today`` (default: the clock's)."""
        day = today or self.today()
        report = TickReport()
        # Activations first, so an amendment that takes effect today shortens its
        # predecessor before the predecessor's ending is checked.
        for agreement_id in await self._due(repository.due_activations, day):
            if await self._step(service.activate_if_due, agreement_id, day):
                report.activated.append(agreement_id)
        for agreement_id in await self._due(repository.due_endings, day):
            if await self._step(service.end_if_due, agreement_id, day):
                report.ended.append(agreement_id)
        last_day = day + timedelta(days=self.reminder_days)
        async with self.db.read() as session:
            reminders = await repository.due_reminders(session, day, last_day)
        for agreement_id in reminders:
            if await self._step(self._remind_if_due, agreement_id, day):
                report.reminded.append(agreement_id)
        return report

    async def _remind_if_due(
        self, session: AsyncSession, agreement_id: uuid.UUID, *, today: date
    ) -> bool | None:
        sent = await service.remind_if_due(
            session, agreement_id, today=today, reminder_days=self.reminder_days
        )
        return True if sent else None

    async def _due(
        self, query: Callable[[AsyncSession, date], Awaitable[list[uuid.UUID]]], day: date
    ) -> list[uuid.UUID]:
        async with self.db.read() as session:
            return await query(session, day)

    async def _step(
        self,
        step: Callable[..., Awaitable[object]],
        agreement_id: uuid.UUID,
        day: date,
    ) -> bool:
        try:
            async with self.db.write() as session:
                return await step(session, agreement_id, today=day) is not None
        except Exception:
            # Rolled back; the next tick retries it. The other agreements go on meanwhile.
            _log.exception("agreement %s: scheduled transition failed", agreement_id)
            return False


async def run_scheduler(runtime: ServiceRuntime) -> None:
    """The service's background task (``ServiceDefinition.background``)."""
    settings = runtime.settings
    if not isinstance(settings, Settings) or not settings.scheduler_enabled:
        return
    scheduler = AgreementScheduler(
        runtime.db,
        interval_seconds=settings.scheduler_interval_seconds,
        reminder_days=settings.expiry_reminder_days,
    )
    await scheduler.run()
