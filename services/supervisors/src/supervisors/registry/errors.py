"""Problems raised by the supervisor registry (stable codes)."""

from __future__ import annotations

import uuid

from vfu_common.errors import ProblemError


def supervisor_not_found(supervisor_id: uuid.UUID) -> ProblemError:
    """No such supervisor, or one the caller may not see (privacy: never 403)."""
    return ProblemError(
        404, "supervisor_not_found", "Supervisor not found", f"No supervisor {supervisor_id}."
    )


def hsa_id_taken(hsa_id: str) -> ProblemError:
    """Another supervisor already has the HSA-id (an HSA-id names one person)."""
    return ProblemError(
        409, "hsa_id_taken", "HSA-id taken", f"Another supervisor has HSA-id {hsa_id}."
    )


def employer_reference_taken(reference: str) -> ProblemError:
    """Another of the employer's supervisors has the employer reference."""
    return ProblemError(
        409,
        "employer_reference_taken",
        "Employer reference taken",
        f"Another of your supervisors has employer_reference {reference!r}.",
    )


def supervisor_deregistered(supervisor_id: uuid.UUID) -> ProblemError:
    """A deregistered supervisor stays readable for the history but cannot change."""
    return ProblemError(
        409,
        "supervisor_deregistered",
        "Supervisor deregistered",
        f"Supervisor {supervisor_id} was deregistered and can no longer be changed.",
    )


def employer_id_required() -> ProblemError:
    """An admin registers a supervisor on behalf of an employer and must name it."""
    return ProblemError(
        422,
        "employer_id_required",
        "employer_id required",
        "An admin registering a supervisor must give the employer's employer_id.",
        errors=[{"loc": ["body", "employer_id"], "msg": "required for admins", "type": "missing"}],
    )


def not_employer() -> ProblemError:
    """A provider naming another employer: providers register only their own staff."""
    return ProblemError(
        403,
        "not_employer",
        "Not the employer",
        "Providers register supervisors for their own organisation only.",
    )


def no_organisation() -> ProblemError:
    """A provider principal without an organisation employs nobody."""
    return ProblemError(
        403, "forbidden", "Forbidden", "Your identity names no provider organisation."
    )
