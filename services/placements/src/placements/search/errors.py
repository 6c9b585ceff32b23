"""Problems the search answers with (besides 422 request validation)."""

from __future__ import annotations

from vfu_common.errors import ProblemError


def invalid_cursor() -> ProblemError:
    """400: a cursor made for another sort, or altered (the same code pagination uses)."""
    return ProblemError(
        400,
        "invalid_cursor",
        "Invalid cursor",
        "Pass back a next_cursor exactly as received, with the same sort.",
    )
