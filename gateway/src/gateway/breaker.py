"""A circuit breaker per upstream: stop calling a service that keeps failing.

closed     calls go through; ``failures`` consecutive failures (connect errors, lost
           connections, timeouts) open the circuit.
open       calls are refused at once for ``open_seconds`` (the caller answers 503 with
           Retry-After), so a dead service costs neither a connect timeout per request
           nor a pile of waiting requests.
half-open  after that, one trial call goes through while the others are still refused;
           its success closes the circuit, its failure opens it again.

Answers from the service, including 5xx, count as success: the service is reachable and
its errors are its own. Like the rate limiter, every method is synchronous (no locks).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from enum import Enum


class State(Enum):
    """Where the breaker is."""

    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


class CircuitBreaker:
    """Counts consecutive failures of one upstream and refuses calls while open."""

    def __init__(
        self,
        failures: int,
        open_seconds: float,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.failures = failures
        self.open_seconds = open_seconds
        self._clock = clock
        self._consecutive = 0
        self._opened_at: float | None = None
        self._trial_running = False

    @property
    def state(self) -> State:
        """The state now (open turns half-open by the clock alone)."""
        if self._opened_at is None:
            return State.CLOSED
        if self._clock() - self._opened_at < self.open_seconds:
            return State.OPEN
        return State.HALF_OPEN

    def admit(self) -> float:
        """Ask to call: 0.0 if allowed, else the seconds to wait before asking again.

        In half-open state the first caller becomes the trial; it must report
        ``success``, ``failure`` or ``abandon`` so the next trial can run.
        """
        if self._opened_at is None:
            return 0.0
        remaining = self._opened_at + self.open_seconds - self._clock()
        if remaining > 0:
            return remaining
        if self._trial_running:
            # Another request is finding out whether the service is back.
            return 1.0
        self._trial_running = True
        return 0.0

    def success(self) -> None:
        """The upstream answered."""
        self._consecutive = 0
        self._opened_at = None
        self._trial_running = False

    def failure(self) -> None:
        """The upstream could not be reached or did not answer in time."""
        self._consecutive += 1
        if self._trial_running or self._consecutive >= self.failures:
            self._opened_at = self._clock()
        self._trial_running = False

    def abandon(self) -> None:
        """A call ended with no verdict on the upstream (e.g. the client went away)."""
        self._trial_running = False
