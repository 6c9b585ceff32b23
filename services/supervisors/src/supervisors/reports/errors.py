"""Problems raised by the reports feature (stable codes)."""

from __future__ import annotations

import uuid

from vfu_common.errors import ProblemError


def not_own_organisation(provider_id: uuid.UUID) -> ProblemError:
    """A provider asked for another provider's report."""
    return ProblemError(
        403,
        "not_own_organisation",
        "Not your organisation",
        f"Providers read reports of their own organisation only, not of {provider_id}.",
    )
