"""The launcher's restart schedule: backoff that doubles, is capped, and forgives."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from vfu_devrun.supervision import Backoff, RestartSchedule

BACKOFF = Backoff(first=0.5, factor=2.0, cap=30.0, settle=60.0)


def test_a_child_that_keeps_dying_waits_longer_each_time_up_to_the_cap() -> None:
    schedule = RestartSchedule(BACKOFF)
    schedule.started("nats", 0.0)
    now, delays = 1.0, []
    for _ in range(9):
        delay = schedule.died("nats", now)
        delays.append(delay)
        assert schedule.waiting("nats")
        assert not schedule.due("nats", now + delay - 0.01)
        assert schedule.due("nats", now + delay)
        now += delay
        schedule.started("nats", now)
        assert not schedule.waiting("nats")
        now += 1.0  # dies again a second later
    assert delays == [0.5, 1, 2, 4, 8, 16, 30, 30, 30]


def test_a_child_that_stayed_up_a_while_starts_again_at_once() -> None:
    schedule = RestartSchedule(BACKOFF)
    schedule.started("placements", 0.0)
    assert schedule.died("placements", 1.0) == 0.5
    schedule.started("placements", 1.5)
    assert schedule.died("placements", 2.0) == 1.0
    schedule.started("placements", 3.0)
    assert schedule.died("placements", 3.0 + BACKOFF.settle) == 0.5
    assert not schedule.due("gateway", 100.0), "a child never seen dying is not due"


# Uptimes in quarter seconds: like every delay, exact in binary floating point, so a life of
# exactly ``settle`` seconds is seen as that (and not as 59.999...) at any point in time.
@given(st.lists(st.integers(0, 800).map(lambda quarters: quarters / 4), min_size=1, max_size=30))
def test_the_delay_follows_the_deaths_since_the_last_settled_start(
    uptimes: list[float],
) -> None:
    """Each life: up for ``uptime`` seconds, then dead until restarted after its delay."""
    schedule = RestartSchedule(BACKOFF)
    now, in_a_row = 0.0, 0
    schedule.started("gateway", now)
    for uptime in uptimes:
        now += uptime
        in_a_row = 0 if uptime >= BACKOFF.settle else in_a_row
        delay = schedule.died("gateway", now)
        assert delay == min(BACKOFF.cap, BACKOFF.first * BACKOFF.factor**in_a_row)
        in_a_row += 1
        now += delay
        assert schedule.due("gateway", now)
        schedule.started("gateway", now)
