"""The agreement scheduler: activation, expiry, termination and expiry reminders by date.

One replica acts at a time, under the database lease ``agreements-scheduler``.
The lease is an efficiency measure, not the safety net: each transition is a conditional
UPDATE, so even two schedulers acting at once (a lease handed over mid-tick) emit each
event exactly once. Each agreement moves in its own transaction, and a failing one is
logged and retried on the next tick, so it does not hold the others back.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy.ext.asyncio import AsyncSession
from vfu_common.app_factory import ServiceRuntime
from vfu_common.db import Database
from vfu_common.messaging.lease import Lease
from vfu_common.scheduler import LeasedScheduler

from agreements.calendar import CALENDAR
from agreements.contracting import lifecycle
from agreements.settings import Settings

LEASE_NAME = "agreements-scheduler"


@dataclass
class TickReport:
    """What one tick changed (for logs and tests)."""

    activated: list[uuid.UUID] = field(default_factory=list)
    ended: list[uuid.UUID] = field(default_factory=list)
    reminded: list[uuid.UUID] = field(default_factory=list)


class AgreementScheduler(LeasedScheduler):
    """Runs the date-driven transitions every ``interval_seconds`` while holding the lease."""

    def __init__(
        self,
        db: Database,
        *,
        interval_seconds: float = 60.0,
        reminder_days: int = 60,
        today: Callable[[], date] = CALENDAR.today,
        lease: Lease | None = None,
    ) -> None:
        super().__init__(
            db,
            lease_name=LEASE_NAME,
            interval_seconds=interval_seconds,
            today=today,
            lease=lease,
        )
        self.reminder_days = reminder_days

    async def tick(self, today: date | None = None) -> TickReport:
        """One pass over every due transition, as of ``today`` (default: the clock's)."""
        day = today or self.today()
        report = TickReport()
        # Activations first, so an amendment that takes effect today shortens its
        # predecessor before the predecessor's ending is checked.
        for agreement_id in await self.due(lifecycle.due_activations, day):
            if await self.step(lifecycle.activate_if_due, agreement_id, day):
                report.activated.append(agreement_id)
        for agreement_id in await self.due(lifecycle.due_endings, day):
            if await self.step(lifecycle.end_if_due, agreement_id, day):
                report.ended.append(agreement_id)
        last_day = day + timedelta(days=self.reminder_days)
        async with self.db.read() as session:
            reminders = await lifecycle.due_reminders(session, day, last_day)
        for agreement_id in reminders:
            if await self.step(self._remind_if_due, agreement_id, day):
                report.reminded.append(agreement_id)
        return report

    async def _remind_if_due(
        self, session: AsyncSession, agreement_id: uuid.UUID, *, today: date
    ) -> bool | None:
        sent = await lifecycle.remind_if_due(
            session, agreement_id, today=today, reminder_days=self.reminder_days
        )
        return True if sent else None


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
