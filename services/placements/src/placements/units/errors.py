"""Problems raised by the care-unit feature (stable codes)."""

from __future__ import annotations

import uuid

from vfu_common.errors import ProblemError


def unit_not_found(unit_id: uuid.UUID) -> ProblemError:
    """No such care unit."""
    return ProblemError(404, "unit_not_found", "Care unit not found", f"No care unit {unit_id}.")


def not_owner(what: str) -> ProblemError:
    """A visible object that only its provider (or an admin) may change."""
    return ProblemError(
        403, "not_owner", "Not the owner", f"Only the provider owning {what} may change it."
    )


def hsa_id_taken(hsa_id: str) -> ProblemError:
    """Another unit already has the HSA-id."""
    return ProblemError(
        409, "hsa_id_taken", "HSA-id taken", f"Another care unit has HSA-id {hsa_id}."
    )


def provider_id_required() -> ProblemError:
    """An admin creates a unit on behalf of a provider and must name it."""
    return ProblemError(
        422,
        "provider_id_required",
        "provider_id required",
        "An admin creating a unit must give the owning provider's provider_id.",
        errors=[{"loc": ["body", "provider_id"], "msg": "required for admins", "type": "missing"}],
    )


def no_organisation() -> ProblemError:
    """A provider principal without an organisation cannot own anything."""
    return ProblemError(
        403, "forbidden", "Forbidden", "Your identity names no provider organisation."
    )
