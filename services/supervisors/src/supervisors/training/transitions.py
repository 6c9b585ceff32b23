"""The training record state machine.

``registered → in_progress → completed → verified``; ``registered | in_progress → failed |
withdrawn``; ``failed | withdrawn → registered`` (a retake re-enrols the same record, since
there is one record per supervisor and course). A university may also report a
completion straight from ``registered``: it often learns of a course only at its end.
This module is the only code that sets a record's status.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any, Final, Literal

from sqlalchemy.ext.asyncio import AsyncSession
from vfu_common.errors import ProblemError
from vfu_common.utc import utcnow

from supervisors.training import errors, repository
from supervisors.training.repository import RecordView

Action = Literal["start", "complete", "fail", "withdraw", "reenrol", "verify"]
# The statuses a university may report a new record in; later ones come from the moves.
ReportedStatus = Literal["registered", "in_progress", "completed"]


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


def opened(values: dict[str, Any], *, reported: ReportedStatus) -> dict[str, Any]:
    """A new record's columns, in the status its issuer reported."""
    return {**values, "status": reported}


async def apply(
    session: AsyncSession, record: RecordView, action: str, *, completed_on: date | None
) -> bool:
    """Move ``record`` (as read, its move checked by ``refusal``) by ``action``; False when
    a concurrent change moved it first (the version guard changed nothing)."""
    now = utcnow()
    values: dict[str, Any] = {"status": target_of(action), "updated_at": now}
    if action == "complete":
        values["completed_on"] = completed_on
    if action == "verify":
        values["verified_at"] = now
    return await repository.change_record(
        session, record.id, expected_version=record.version, values=values
    )
