"""The training record state machine.

``registered → in_progress → completed → verified``; ``registered | in_progress → failed |
withdrawn``; ``failed | withdrawn → registered`` (a retake re-enrols the same record, since
there is one record per supervisor and course). A university may also report a
completion straight from ``registered``: it often learns of a course only at its end.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Final, Literal

from vfu_common.errors import ProblemError

from supervisors.training import errors

Action = Literal["start", "complete", "fail", "withdraw", "reenrol", "verify"]


@dataclass(frozen=True)
class Transition:
    """The statuses an action may start from, and the status it leads to."""

    sources: frozenset[str]
    target: str


TRANSITIONS: Final[dict[str, Transition]] = {
    "start": Transition(frozenset({"registered"}), "in_progress"),
    "complete": Transition(frozenset({"registered", "in_progress"}), "completed"),
    "fail": Transition(frozenset({"registered", "in_progress"}), "failed"),
    "withdraw": Transition(frozenset({"registered", "in_progress"}), "withdrawn"),
    "reenrol": Transition(frozenset({"failed", "withdrawn"}), "registered"),
    "verify": Transition(frozenset({"completed"}), "verified"),
}


def refusal(action: str, status: str, record_id: uuid.UUID) -> ProblemError | None:
    """Why ``action`` may not run on record ``record_id`` in ``status`` (None: it may)."""
    if status in TRANSITIONS[action].sources:
        return None
    if action == "verify" and status == "verified":
        return errors.already_verified(record_id)
    return errors.invalid_transition(action, status)


def target_of(action: str) -> str:
    """The status ``action`` leads to."""
    return TRANSITIONS[action].target
