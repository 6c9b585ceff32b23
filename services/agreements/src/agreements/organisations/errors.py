"""Problems raised by the organisation feature (stable codes)."""

from __future__ import annotations

import uuid

from vfu_common.errors import ProblemError


def organisation_exists(organisation_number: str, existing_id: uuid.UUID) -> ProblemError:
    """The organisationsnummer is already registered."""
    return ProblemError(
        409,
        "organisation_exists",
        "Organisation already registered",
        f"Organisationsnummer {organisation_number} is organisation {existing_id}.",
    )


def organisation_not_found(organisation_id: uuid.UUID) -> ProblemError:
    """No such organisation."""
    return ProblemError(
        404,
        "organisation_not_found",
        "Organisation not found",
        f"No organisation {organisation_id}.",
    )
