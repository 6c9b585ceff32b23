"""A NATS connection that reconnects forever, opened in the background.

Services start serving HTTP at once and report ``/readyz`` unready until NATS answers;
they never crash because the bus is away at start-up.
"""

from __future__ import annotations

import asyncio
import logging

import nats
from nats.aio.client import Client
from nats.js import JetStreamContext

_log = logging.getLogger(__name__)


class NatsConnection:
    """Owns one service's NATS client."""

    def __init__(self, servers: str, *, name: str) -> None:
        self.servers = [s.strip() for s in servers.split(",") if s.strip()]
        self.name = name
        self.client: Client | None = None
        self.connected = asyncio.Event()

    @property
    def is_connected(self) -> bool:
        """True while the client has a live connection."""
        return self.client is not None and self.client.is_connected

    def jetstream(self) -> JetStreamContext:
        """The JetStream context; only after ``connect`` returned."""
        if self.client is None:
            raise RuntimeError("NATS not connected yet")
        return self.client.jetstream()

    async def connect(self) -> Client:
        """Connect, retrying until the server answers; then reconnect forever."""
        attempt = 0
        while True:
            try:
                self.client = await nats.connect(
                    servers=self.servers,
                    name=self.name,
                    max_reconnect_attempts=-1,
                    reconnect_time_wait=0.5,
                    connect_timeout=2,
                    allow_reconnect=True,
                    error_cb=self._on_error,
                    disconnected_cb=self._on_disconnect,
                    reconnected_cb=self._on_reconnect,
                )
                self.connected.set()
                return self.client
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                attempt += 1
                delay = min(5.0, 0.2 * attempt)
                _log.warning(
                    "NATS %s unreachable (%s); retrying in %.1fs", self.servers, exc, delay
                )
                await asyncio.sleep(delay)

    async def close(self) -> None:
        """Drain and close (stops subscriptions first, then flushes)."""
        if self.client is not None and not self.client.is_closed:
            try:
                await asyncio.wait_for(self.client.drain(), timeout=5)
            except Exception as exc:
                _log.warning("NATS drain failed: %s", exc)
                await self.client.close()

    async def _on_error(self, exc: Exception) -> None:
        _log.warning("NATS error: %s", exc)

    async def _on_disconnect(self) -> None:
        _log.warning("NATS disconnected")

    async def _on_reconnect(self) -> None:
        _log.info("NATS reconnected")
