"""The qualification rule: is a supervisor qualified to supervise under a requirement level?

The supervisors service computes each supervisor's qualification against the default
level for their profession; the placements service decides assignments against the
stricter of that default and the covering agreement's ``supervision_requirement_level``.
Both call these functions, so the two services cannot disagree on what a level means.

Levels are ordered: a supervisor who completed a 7.5 hp course also meets "basic" and
"introduction". A requirement level this module does not know (agreements store it as a
free code) fails closed with ``unknown_requirement_level``: nobody is assigned under a
rule the platform cannot check.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final, get_args

from vfu_common.events.contracts import TrainingLevel

LEVELS: Final[tuple[str, ...]] = get_args(TrainingLevel)
# Records that count towards qualification: a completion reported by the university that
# runs the course is authoritative; verification is a further confirmation, not a gate.
QUALIFYING_RECORD_STATUSES: Final = frozenset({"completed", "verified"})


@dataclass(frozen=True)
class QualificationDecision:
    """Qualified or not, and why (``reason`` is a stable code)."""

    qualified: bool
    reason: str
    detail: str


def level_rank(level: str | None) -> int:
    """0 for no training, 1.. for the levels in order; ValueError for an unknown level."""
    if level is None:
        return 0
    try:
        return LEVELS.index(level) + 1
    except ValueError:
        raise ValueError(f"unknown training level: {level!r}") from None


def is_known_level(level: str) -> bool:
    """Whether ``level`` is one of the ordered training levels."""
    return level in LEVELS


def highest_level(levels: Iterable[str]) -> str | None:
    """The highest of ``levels`` (None when empty)."""
    best: str | None = None
    for level in levels:
        if level_rank(level) > level_rank(best):
            best = level
    return best


def stricter_level(default: str, agreement_level: str | None) -> str:
    """The level a placement under an agreement requires: the stricter of the two.

    Raises ValueError when ``agreement_level`` is not a known level (callers refuse).
    """
    if agreement_level is None:
        return default
    return agreement_level if level_rank(agreement_level) > level_rank(default) else default


def evaluate(
    *, licence_verified: bool, level_achieved: str | None, required_level: str
) -> QualificationDecision:
    """Whether a supervisor with this licence and training meets ``required_level``."""
    if not is_known_level(required_level):
        return QualificationDecision(
            False,
            "unknown_requirement_level",
            f"the requirement level {required_level!r} is not one of {', '.join(LEVELS)}",
        )
    if not licence_verified:
        return QualificationDecision(
            False, "licence_not_verified", "the supervisor's licence has not been verified"
        )
    if level_rank(level_achieved) < level_rank(required_level):
        achieved = level_achieved or "no supervisor training"
        return QualificationDecision(
            False,
            "training_below_requirement",
            f"completed training reaches {achieved}; {required_level} is required",
        )
    return QualificationDecision(
        True, "qualified", f"licensed and trained to {level_achieved} (≥ {required_level})"
    )
