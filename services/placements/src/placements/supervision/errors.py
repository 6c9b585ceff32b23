"""Problems raised by the supervision feature (stable codes).

Every refusal of the supervisor gate is a 409 whose ``code`` names the rule and whose
detail says what was found, so a provider can act on it (train, reassign, wait).
"""

from __future__ import annotations

import uuid

from vfu_common.errors import ProblemError


def _gate(code: str, title: str, detail: str) -> ProblemError:
    return ProblemError(409, code, title, detail)


def booking_not_confirmed(booking_id: uuid.UUID, status: str) -> ProblemError:
    """Supervisors are assigned to confirmed placements (or ones in progress) only."""
    return _gate(
        "booking_not_confirmed",
        "Booking not confirmed",
        f"Booking {booking_id} is {status}; supervisors are assigned to confirmed "
        "or in-progress placements.",
    )


def unknown_supervisor(supervisor_id: uuid.UUID) -> ProblemError:
    """Not in the projection: not registered, or its event has not arrived yet."""
    return _gate(
        "unknown_supervisor",
        "Unknown supervisor",
        f"Supervisor {supervisor_id} is not known here yet; if the employer just "
        "registered them, retry shortly.",
    )


def supervisor_deregistered(supervisor_id: uuid.UUID) -> ProblemError:
    """The employer deregistered the supervisor."""
    return _gate(
        "supervisor_deregistered",
        "Supervisor deregistered",
        f"Supervisor {supervisor_id} was deregistered by their employer.",
    )


def not_employed_by_provider(supervisor_id: uuid.UUID, provider_id: uuid.UUID) -> ProblemError:
    """The supervisor works for another organisation than the offer's provider."""
    return _gate(
        "supervisor_not_employed_by_provider",
        "Supervisor not employed by the provider",
        f"Supervisor {supervisor_id} is not employed by the placement's provider {provider_id}.",
    )


def not_at_unit(supervisor_id: uuid.UUID, unit_id: uuid.UUID) -> ProblemError:
    """The supervisor names units, and the placement's unit is not one of them."""
    return _gate(
        "supervisor_not_at_unit",
        "Supervisor not at the unit",
        f"Supervisor {supervisor_id} does not work at unit {unit_id}.",
    )


def profession_mismatch(supervisor_profession: str, booking_profession: str) -> ProblemError:
    """A supervisor supervises students of their own profession."""
    return _gate(
        "profession_mismatch",
        "Profession mismatch",
        f"The supervisor's profession is {supervisor_profession}; the placement is for "
        f"{booking_profession}.",
    )


class SupervisorNotQualifiedError(ProblemError):
    """The qualification rule refused: ``reason`` is its stable code, leading the detail."""

    def __init__(self, reason: str, detail: str, required_level: str) -> None:
        super().__init__(
            409,
            "supervisor_not_qualified",
            "Supervisor not qualified",
            f"{reason}: {detail} (required level {required_level}).",
        )
        self.reason = reason


def already_assigned(supervisor_id: uuid.UUID, booking_id: uuid.UUID) -> ProblemError:
    """The supervisor already supervises students of this booking."""
    return _gate(
        "supervisor_already_assigned",
        "Supervisor already assigned",
        f"Supervisor {supervisor_id} is already assigned to booking {booking_id}; release "
        "the assignment to change its students.",
    )


def booking_fully_supervised(students: int, unsupervised: int) -> ProblemError:
    """More students than the booking's confirmed places still without a supervisor."""
    return _gate(
        "booking_fully_supervised",
        "Booking fully supervised",
        f"Asked to supervise {students} student(s); {unsupervised} of the booking's "
        "confirmed places have no supervisor.",
    )


def over_capacity(students: int, load: int, capacity: int, model: str) -> ProblemError:
    """The supervisor would have more students at once than their capacity."""
    return _gate(
        "supervisor_over_capacity",
        "Supervisor over capacity",
        f"The supervisor has {load} student(s) in overlapping placements; {students} more "
        f"would exceed the capacity of {capacity} ({model}).",
    )


def assignment_not_found(assignment_id: uuid.UUID) -> ProblemError:
    """No such assignment on this booking."""
    return ProblemError(
        404, "assignment_not_found", "Assignment not found", f"No assignment {assignment_id}."
    )


def assignment_not_active(assignment_id: uuid.UUID) -> ProblemError:
    """Releasing twice."""
    return ProblemError(
        409,
        "assignment_not_active",
        "Assignment not active",
        f"Assignment {assignment_id} is already released.",
    )
