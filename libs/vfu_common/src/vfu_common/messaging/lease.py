"""A database lease so only one replica runs a singleton task (the relay, a scheduler).

A lease row names its holder and an expiry; the holder renews it while working, and any
replica may take it over once it has expired. This works the same on SQLite and
PostgreSQL, and a crashed holder loses the lease within one TTL.
"""

from __future__ import annotations

import socket
from datetime import datetime, timedelta

from sqlalchemy import or_, update

from vfu_common.db import Database, insert_ignore
from vfu_common.messaging.tables import leases
from vfu_common.utc import utcnow
from vfu_common.uuid7 import new_id


class Lease:
    """A named lease held by this process."""

    def __init__(self, db: Database, name: str, *, ttl_seconds: float = 15.0) -> None:
        self.db = db
        self.name = name
        self.ttl = timedelta(seconds=ttl_seconds)
        self.holder = f"{socket.gethostname()}-{new_id().hex[:12]}"
        self._held_until: datetime | None = None

    async def acquire(self) -> bool:
        """Take or renew the lease; True while this process holds it.

        A fresh lease is not renewed again until a third of its lifetime has passed, so a
        holder woken often (the relay, on every commit) does not write on every wake.
        """
        now = utcnow()
        if self._held_until is not None and now < self._held_until - self.ttl * 2 / 3:
            return True
        held = await self._take_or_renew(now)
        self._held_until = now + self.ttl if held else None
        return held

    async def _take_or_renew(self, now: datetime) -> bool:
        async with self.db.write() as session:
            result = await session.execute(
                update(leases)
                .where(leases.c.name == self.name)
                .where(or_(leases.c.holder == self.holder, leases.c.expires_at < now))
                .values(holder=self.holder, expires_at=now + self.ttl)
            )
            if result.rowcount == 1:  # type: ignore[attr-defined]
                return True
            return await insert_ignore(
                session,
                leases,
                {"name": self.name, "holder": self.holder, "expires_at": now + self.ttl},
            )

    async def release(self) -> None:
        """Give the lease up so another replica can take over at once."""
        self._held_until = None
        async with self.db.write() as session:
            await session.execute(
                update(leases)
                .where(leases.c.name == self.name, leases.c.holder == self.holder)
                .values(expires_at=utcnow() - self.ttl)
            )
