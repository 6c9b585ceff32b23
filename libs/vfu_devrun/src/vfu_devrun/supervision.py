"""When the development launcher starts a child that died again: backoff per child.

A child that dies is started again after a delay that doubles with each death in a row
(0.5 s, 1 s, 2 s … at most 30 s), so a child that cannot start (a port taken, a broken
database URL) does not spin, while one killed once is back at once. A child that stayed
up for a minute since its last start counts as healthy again: its next death waits the
first delay.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Backoff:
    """The delays between a child's death and its next start."""

    first: float = 0.5
    factor: float = 2.0
    cap: float = 30.0
    # Up this long since its last start: the next death is a first one again.
    settle: float = 60.0


@dataclass
class _Child:
    deaths_in_a_row: int = 0
    started_at: float = 0.0
    due_at: float | None = None  # set while it waits to be started again


@dataclass
class RestartSchedule:
    """Which exited children are due to start again, and after how long."""

    backoff: Backoff = field(default_factory=Backoff)
    _children: dict[str, _Child] = field(default_factory=dict)

    def started(self, name: str, now: float) -> None:
        """``name`` was (re)started at ``now``."""
        child = self._children.setdefault(name, _Child())
        child.started_at = now
        child.due_at = None

    def waiting(self, name: str) -> bool:
        """Whether ``name``'s death was recorded and it waits to start again."""
        child = self._children.get(name)
        return child is not None and child.due_at is not None

    def died(self, name: str, now: float) -> float:
        """Record ``name``'s death at ``now``; the delay before it starts again."""
        child = self._children.setdefault(name, _Child(started_at=now))
        if now - child.started_at >= self.backoff.settle:
            child.deaths_in_a_row = 0
        delay = min(
            self.backoff.cap, self.backoff.first * self.backoff.factor**child.deaths_in_a_row
        )
        child.deaths_in_a_row += 1
        child.due_at = now + delay
        return delay

    def due(self, name: str, now: float) -> bool:
        """Whether ``name`` waits to start again and its delay has passed."""
        child = self._children.get(name)
        return child is not None and child.due_at is not None and now >= child.due_at

    def restarts(self, name: str) -> int:
        """Deaths in a row of ``name`` (the restart it is on)."""
        child = self._children.get(name)
        return child.deaths_in_a_row if child is not None else 0
