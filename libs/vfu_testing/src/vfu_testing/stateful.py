"""Running the services' Hypothesis state machines (test-only: needs hypothesis).

Each stateful test gives its machine a *world* (databases, an event loop, a clock) as a
class attribute, runs it with the same settings apart from its size, and closes the world
whatever happened.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from hypothesis import HealthCheck, settings
from hypothesis.stateful import RuleBasedStateMachine


class World(Protocol):
    """What a state machine's world must offer the runner."""

    def close(self) -> None: ...


def run_state_machine(
    machine: type[RuleBasedStateMachine],
    world: World,
    *,
    max_examples: int,
    steps: int,
    also_suppress: Sequence[HealthCheck] = (),
) -> None:
    """Run ``machine`` against ``world`` and close the world afterwards.

    No deadline (database round trips vary with the machine's load) and no ``too_slow``
    health check for the same reason; ``also_suppress`` adds others a machine needs.
    """
    holder: Any = machine  # each machine declares ``world: ClassVar[...]`` of its own type
    try:
        holder.world = world
        case = machine.TestCase
        case.settings = settings(
            max_examples=max_examples,
            stateful_step_count=steps,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, *also_suppress],
        )
        case().runTest()
    finally:
        world.close()
