"""The placement lifecycle: confirmed bookings start on their first day, placements in
progress complete after their last day, offers open to every university on their release
date, and each planning round's passed gates are announced.

One replica acts at a time, under the database lease ``placements-lifecycle``. The lease
only saves work: each step is a conditional UPDATE on the booking's status, so even two
schedulers ticking at once (a lease handed over mid-tick) start or complete a placement,
and emit its event, exactly once. Each booking moves in its own transaction; a failing
one is logged and retried on the next tick without holding the others back.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from vfu_common.app_factory import ServiceRuntime
from vfu_common.db import Database
from vfu_common.messaging.lease import Lease
from vfu_common.scheduler import LeasedScheduler

from placements.bookings import service
from placements.calendar import CALENDAR
from placements.offers import release
from placements.rounds import service as rounds
from placements.settings import Settings

LEASE_NAME = "placements-lifecycle"


@dataclass
class TickReport:
    """What one tick changed (for logs and tests)."""

    started: list[uuid.UUID] = field(default_factory=list)
    completed: list[uuid.UUID] = field(default_factory=list)
    released: list[uuid.UUID] = field(default_factory=list)
    rounds_announced: list[uuid.UUID] = field(default_factory=list)


class LifecycleScheduler(LeasedScheduler):
    """Runs the date-driven transitions every ``interval_seconds`` while holding the lease."""

    def __init__(
        self,
        db: Database,
        *,
        interval_seconds: float = 60.0,
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

    async def tick(self, today: date | None = None) -> TickReport:
        """One pass over every due transition, as of ``today`` (default: the clock's).

        Starts come first, so a placement whose whole period has passed (the service was
        down) is started and completed in the same tick, each with its event.
        """
        day = today or self.today()
        report = TickReport()
        for booking_id in await self.due(service.due_starts, day):
            if await self.step(service.start_if_due, booking_id, day):
                report.started.append(booking_id)
        for booking_id in await self.due(service.due_completions, day):
            if await self.step(service.complete_if_due, booking_id, day):
                report.completed.append(booking_id)
        for offer_id in await self.due(release.due_releases, day):
            if await self.step(release.release_if_due, offer_id, day):
                report.released.append(offer_id)
        for round_id in await self.due(rounds.due_gate_announcements, day):
            if await self.step(rounds.announce_passed_gates, round_id, day):
                report.rounds_announced.append(round_id)
        return report


async def run_lifecycle(runtime: ServiceRuntime) -> None:
    """The service's background task (``ServiceDefinition.background``)."""
    settings = runtime.settings
    if not isinstance(settings, Settings) or not settings.lifecycle_enabled:
        return
    scheduler = LifecycleScheduler(runtime.db, interval_seconds=settings.lifecycle_interval_seconds)
    await scheduler.run()
