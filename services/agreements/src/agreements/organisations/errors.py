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


def municipality_code_required() -> ProblemError:
    """A municipality without its municipality code."""
    return ProblemError(
        422,
        "municipality_code_required",
        "Municipality code required",
        "An organisation of kind municipality needs its municipality_code.",
    )


def county_required() -> ProblemError:
    """A region without a county or a municipality to derive it from."""
    return ProblemError(
        422,
        "county_required",
        "County required",
        "An organisation of kind region needs county_code or municipality_code.",
    )


def county_mismatch(county_code: str, municipality_code: str) -> ProblemError:
    """The given county is not the county the municipality lies in."""
    return ProblemError(
        422,
        "county_mismatch",
        "County does not match municipality",
        f"Municipality {municipality_code} lies in county {municipality_code[:2]}, "
        f"not {county_code}.",
    )
