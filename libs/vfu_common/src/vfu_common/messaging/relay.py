"""The outbox relay: publishes committed outbox rows to JetStream, never dropping one.

Woken on commit by the database's after-commit hook, and by a poll as a safety net.
Publishes a batch concurrently (sequential acked publishes reach ~3.5k/s, concurrent
~16k/s on our machines), each with ``Nats-Msg-Id`` = event id so a retry after an
unknown outcome (a timeout) is deduplicated by the stream. Rows are marked published
only after their ack.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from datetime import timedelta

from nats.js import JetStreamContext
from nats.js.api import PubAck
from sqlalchemy import delete, select, update

from vfu_common.db import Database
from vfu_common.messaging.lease import Lease
from vfu_common.messaging.tables import outbox
from vfu_common.metrics import EVENTS_PUBLISHED, OUTBOX_PUBLISH_FAILURES
from vfu_common.utc import utcnow

_log = logging.getLogger(__name__)


class OutboxRelay:
    """Publishes one service's outbox; only the replica holding the lease publishes."""

    def __init__(
        self,
        db: Database,
        js: JetStreamContext,
        *,
        service: str,
        batch_size: int = 256,
        poll_seconds: float = 1.0,
        publish_timeout: float = 5.0,
        max_backoff_seconds: float = 5.0,
        retention: timedelta = timedelta(days=7),
    ) -> None:
        self.db = db
        self.js = js
        self.batch_size = batch_size
        self.poll_seconds = poll_seconds
        self.publish_timeout = publish_timeout
        self.max_backoff = max_backoff_seconds
        self.retention = retention
        self.lease = Lease(db, f"outbox-relay:{service}")
        self._wake = asyncio.Event()
        db.on_commit(self._wake.set)

    def wake(self) -> None:
        """Ask the relay to look at the outbox now."""
        self._wake.set()

    async def run(self) -> None:
        """Publish until cancelled."""
        failures = 0
        last_purge = utcnow()
        while True:
            try:
                if not await self.lease.acquire():
                    await self._sleep(self.lease.ttl.total_seconds() / 3)
                    continue
                published = await self.publish_pending()
                failures = 0
                if utcnow() - last_purge > timedelta(hours=1):
                    await self.purge_published()
                    last_purge = utcnow()
                if published < self.batch_size:
                    await self._sleep(self.poll_seconds)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # NATS away, database busy: back off and retry
                failures += 1
                delay = min(self.max_backoff, 0.05 * 2**failures) * random.uniform(0.5, 1.0)  # noqa: S311
                OUTBOX_PUBLISH_FAILURES.inc()
                _log.warning("outbox relay: %s; retrying in %.2fs", exc, delay)
                await asyncio.sleep(delay)

    async def _sleep(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), timeout=seconds)
        self._wake.clear()

    async def publish_pending(self) -> int:
        """Publish one batch of unpublished rows; returns how many were published."""
        async with self.db.read() as session:
            rows = (
                await session.execute(
                    select(outbox.c.seq, outbox.c.event_id, outbox.c.subject, outbox.c.payload)
                    .where(outbox.c.published_at.is_(None))
                    .order_by(outbox.c.seq)
                    .limit(self.batch_size)
                )
            ).all()
        if not rows:
            return 0
        results = await asyncio.gather(
            *(
                self.js.publish(
                    row.subject,
                    row.payload,
                    timeout=self.publish_timeout,
                    headers={"Nats-Msg-Id": str(row.event_id)},
                )
                for row in rows
            ),
            return_exceptions=True,
        )
        acked = [row.seq for row, res in zip(rows, results, strict=True) if isinstance(res, PubAck)]
        failed = [res for res in results if not isinstance(res, PubAck)]
        if acked:
            async with self.db.write() as session:
                await session.execute(
                    update(outbox).where(outbox.c.seq.in_(acked)).values(published_at=utcnow())
                )
            EVENTS_PUBLISHED.inc(len(acked))
        if failed:
            first = failed[0]
            raise RuntimeError(
                f"{len(failed)} of {len(rows)} publishes failed: {type(first).__name__}: {first}"
            )
        return len(acked)

    async def purge_published(self) -> None:
        """Delete published rows older than the retention (kept meanwhile for inspection)."""
        async with self.db.write() as session:
            await session.execute(
                delete(outbox).where(outbox.c.published_at < utcnow() - self.retention)
            )
