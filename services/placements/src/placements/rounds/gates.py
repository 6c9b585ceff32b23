"""The one home of what a round's gates allow, read from the clock.

A gate is a date by which something is due: what it closes may still be done through
its date and is refused from the next day (demand due 15 March: demand is taken all of
15 March). ``allocation`` is the day allocation may run, so what must be settled before
it (the policy) closes the day before. The checks read the calendar directly, never the
announcements of passed gates: a request is refused on the right day even if the
lifecycle scheduler has not ticked yet.
"""

from __future__ import annotations

from datetime import date, timedelta

from vfu_common.events.contracts import RoundGate

from placements.rounds import errors
from placements.rounds.models import GATES, PlanningRound


def last_open_day(round_: PlanningRound, gate: RoundGate, *, before: bool = False) -> date:
    """The last day on which what ``gate`` closes may be done (its date, or the day
    before it when the thing must be done ``before`` the gate)."""
    day = round_.gate_date(gate)
    return day - timedelta(days=1) if before else day


def require_open(
    round_: PlanningRound, gate: RoundGate, today: date, *, before: bool = False
) -> None:
    """Refuse with 409 ``round_gate_closed`` when ``gate`` has closed on ``today``."""
    if today > last_open_day(round_, gate, before=before):
        raise errors.round_gate_closed(round_, gate, before=before)


def passed(round_: PlanningRound, today: date) -> list[RoundGate]:
    """The gates whose date lies before ``today``, in date order (ties in term order)."""
    done = [gate for gate in GATES if round_.gate_date(gate) < today]
    return sorted(done, key=lambda gate: (round_.gate_date(gate), GATES.index(gate)))


def current_gate(round_: PlanningRound, today: date) -> RoundGate | None:
    """The next gate still ahead on ``today`` (None once the round is locked)."""
    ahead = [gate for gate in GATES if round_.gate_date(gate) >= today]
    return min(ahead, key=lambda g: (round_.gate_date(g), GATES.index(g)), default=None)
