"""Group commit of audit records: one short transaction for every record waiting.

Each mutating request still waits until its own record is committed before its answer
is sent (ADR 0011), but records that arrive while a write is in flight share the next
transaction instead of each opening one. With one request at a time nothing changes:
the record is written at once, alone. Under load, e.g. 32 concurrent bookings, the audit
log stops costing a transaction per request, which on SQLite is a turn on the single
write connection (ADR 0005) and on PostgreSQL a connection check-out and a commit.
"""

from __future__ import annotations

import asyncio
import weakref
from dataclasses import dataclass, field
from typing import Any, Final

from sqlalchemy.ext.asyncio import AsyncEngine

from vfu_common.audit.tables import audit_log

# Bounds one transaction; a larger backlog is written in several.
MAX_BATCH: Final = 200


@dataclass
class _Pending:
    values: dict[str, Any]
    done: asyncio.Future[None]


@dataclass
class AuditBatcher:
    """Writes audit rows to ``engine``; ``write`` returns once its row is committed."""

    engine: AsyncEngine
    _queue: list[_Pending] = field(default_factory=list)
    _flusher: asyncio.Task[None] | None = None

    async def write(self, values: dict[str, Any]) -> None:
        """Insert one audit row; raises what the insert raised if it could not be written."""
        pending = _Pending(values, asyncio.get_running_loop().create_future())
        # Retrieve a failure even when the waiter is gone, so it is not reported as lost.
        pending.done.add_done_callback(lambda f: f.cancelled() or f.exception())
        self._queue.append(pending)
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush(), name="audit-group-commit")
        # Shielded: a client that goes away must not cancel the write other requests share.
        await asyncio.shield(pending.done)

    async def _flush(self) -> None:
        while self._queue:
            batch, self._queue = self._queue[:MAX_BATCH], self._queue[MAX_BATCH:]
            try:
                async with self.engine.begin() as conn:
                    await conn.execute(audit_log.insert(), [p.values for p in batch])
            except Exception as exc:  # every waiter logs its own record
                for p in batch:
                    if not p.done.done():
                        p.done.set_exception(exc)
            else:
                for p in batch:
                    if not p.done.done():
                        p.done.set_result(None)


_BATCHERS: weakref.WeakKeyDictionary[AsyncEngine, AuditBatcher] = weakref.WeakKeyDictionary()


def batcher_for(engine: AsyncEngine) -> AuditBatcher:
    """The one batcher of ``engine`` (so every request of a service shares it)."""
    batcher = _BATCHERS.get(engine)
    if batcher is None:
        batcher = _BATCHERS[engine] = AuditBatcher(engine)
    return batcher
