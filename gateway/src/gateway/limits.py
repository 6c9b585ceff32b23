"""Per-client rate limiting: one token bucket per client, in this process's memory.

Each gateway process limits on its own (docs/adr/0012): with R replicas behind a load
balancer a client can get up to R times the configured rate. A shared store is future work.

The limiter is synchronous on purpose: a check never awaits, so on one event loop no two
requests can interleave inside it and no lock is needed.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable


class RateLimiter:
    """Token buckets keyed by client: ``burst`` tokens, refilled at ``rate`` per second."""

    def __init__(
        self,
        rate: float,
        burst: int,
        *,
        clock: Callable[[], float] = time.monotonic,
        max_clients: int = 100_000,
    ) -> None:
        self.rate = rate
        self.burst = float(burst)
        self._clock = clock
        self._max_clients = max_clients
        # client -> [tokens left, when they were counted]; a list, updated in place.
        self._buckets: dict[str, list[float]] = {}

    @property
    def enabled(self) -> bool:
        """A rate of 0 switches limiting off."""
        return self.rate > 0

    def acquire(self, client: str) -> float:
        """Take a token for ``client``: 0.0 if granted, else the seconds until one is due."""
        if not self.enabled:
            return 0.0
        now = self._clock()
        bucket = self._buckets.get(client)
        if bucket is None:
            if len(self._buckets) >= self._max_clients:
                self._prune(now)
            self._buckets[client] = [self.burst - 1.0, now]
            return 0.0
        tokens = min(self.burst, bucket[0] + (now - bucket[1]) * self.rate)
        bucket[1] = now
        if tokens >= 1.0:
            bucket[0] = tokens - 1.0
            return 0.0
        bucket[0] = tokens
        return (1.0 - tokens) / self.rate

    def _prune(self, now: float) -> None:
        """Forget clients whose bucket has refilled: a fresh bucket is the same thing.

        Many distinct clients (addresses) cannot grow memory without bound: if every
        bucket is still in use, the oldest half is dropped, which errs on letting through.
        """
        refill = self.burst / self.rate
        idle = [key for key, (_, stamp) in self._buckets.items() if now - stamp >= refill]
        for key in idle:
            del self._buckets[key]
        if len(self._buckets) >= self._max_clients:
            for key in list(self._buckets)[: len(self._buckets) // 2]:
                del self._buckets[key]


def retry_after_header(seconds: float) -> bytes:
    """A ``Retry-After`` value: whole seconds, rounded up, at least 1."""
    return str(max(1, math.ceil(seconds))).encode()
