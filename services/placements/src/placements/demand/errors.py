"""Problems raised by the demand feature (stable codes)."""

from __future__ import annotations

import uuid
from datetime import date

from vfu_common.errors import ProblemError


def demand_line_not_found(line_id: uuid.UUID) -> ProblemError:
    """No such line in the round, or another university's (which does not exist to you)."""
    return ProblemError(
        404, "demand_line_not_found", "Demand line not found", f"No demand line {line_id}."
    )


def not_a_university() -> ProblemError:
    """Demand is a university's: only a university (or an admin naming one) submits it."""
    return ProblemError(
        403,
        "not_a_university",
        "Not a university",
        "Demand lines are submitted by a university for itself (an admin names university_id).",
    )


def university_id_required() -> ProblemError:
    """An admin submits demand on behalf of a university and must name it."""
    return ProblemError(
        422,
        "university_id_required",
        "university_id required",
        "An admin submitting demand names university_id.",
    )


def period_outside_term(term: str, first: date, last: date, start: date, end: date) -> ProblemError:
    """The line's period does not lie in the round's term."""
    return ProblemError(
        422,
        "period_outside_term",
        "Period outside the term",
        f"The round is for {term} ({first} to {last}); the line asks for {start} to {end}.",
        errors=[
            {
                "loc": ["body", "start_date"],
                "type": "period_outside_term",
                "msg": f"the period lies outside {term} ({first} to {last})",
            }
        ],
    )


def line_withdrawn(line_id: uuid.UUID) -> ProblemError:
    """A withdrawn line is kept as a record and changes no more."""
    return ProblemError(
        409,
        "demand_line_withdrawn",
        "Demand line withdrawn",
        f"Demand line {line_id} was withdrawn; submit a new one instead.",
    )


def lines_not_visible() -> ProblemError:
    """Lines are read by their university and the round's coordinator; others read totals."""
    return ProblemError(
        403,
        "demand_lines_not_visible",
        "Demand lines not visible",
        "A round's demand lines are read by the university that submitted them and by the "
        "round's coordinator; everyone else reads the round's demand summary.",
    )
