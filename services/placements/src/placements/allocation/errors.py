"""Problems raised by the allocation feature (stable codes)."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from vfu_common.errors import ProblemError


def run_not_found(run_id: uuid.UUID) -> ProblemError:
    """No such run of the round (or not one the caller may read)."""
    return ProblemError(
        404, "allocation_not_found", "Allocation run not found", f"No allocation run {run_id}."
    )


def in_progress(round_id: uuid.UUID) -> ProblemError:
    """Another run of the round is being computed: one run at a time."""
    return ProblemError(
        409,
        "allocation_in_progress",
        "Allocation in progress",
        f"Another allocation run of round {round_id} is being computed; wait for it.",
        extensions={"round_id": str(round_id)},
    )


def not_yet(round_id: uuid.UUID, gate: str, day: date) -> ProblemError:
    """Allocation runs once demand and offers are in (the day after both are due)."""
    return ProblemError(
        409,
        "allocation_not_open",
        "Allocation not open yet",
        f"Round {round_id} takes demand and offers through {day}; allocation runs after.",
        extensions={"round_id": str(round_id), "gate": gate, "gate_date": day.isoformat()},
    )


def stale(run_id: uuid.UUID, changes: dict[str, Any]) -> ProblemError:
    """The preview was computed from an input that has changed since."""
    return ProblemError(
        409,
        "allocation_stale",
        "Allocation is stale",
        f"The input of run {run_id} has changed since it was computed; run a new preview.",
        extensions={"run_id": str(run_id), "changes": changes},
    )


def not_publishable(run_id: uuid.UUID, status: str) -> ProblemError:
    """Only a preview is published."""
    return ProblemError(
        409,
        "allocation_not_publishable",
        "Run cannot be published",
        f"Run {run_id} is {status}; only a preview is published.",
        extensions={"run_id": str(run_id), "status": status},
    )


def already_published(round_id: uuid.UUID) -> ProblemError:
    """A round's allocation is published once."""
    return ProblemError(
        409,
        "allocation_already_published",
        "Allocation already published",
        f"Round {round_id} has a published allocation already.",
        extensions={"round_id": str(round_id)},
    )


def no_explanation(run_id: uuid.UUID) -> ProblemError:
    """A failed or running run explains nothing yet."""
    return ProblemError(
        409,
        "allocation_not_solved",
        "Run not solved",
        f"Run {run_id} has no result to explain.",
        extensions={"run_id": str(run_id)},
    )


def line_not_found(line_id: uuid.UUID) -> ProblemError:
    """No such line in the run (or not the caller's)."""
    return ProblemError(
        404, "demand_line_not_found", "Demand line not found", f"No demand line {line_id}."
    )
