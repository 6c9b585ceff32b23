"""The training-demand rule: how many qualified supervisors a unit's offers need.

Assumption (documented, not a national rule): a supervision model fixes how many students
one supervisor takes at a time, as in ``STUDENTS_PER_SUPERVISOR``. One-to-one and peer
learning (two students per supervisor) follow from their names; a group is taken as four
students and a student ward (utbildningsavdelning) as six per supervisor, typical figures
for those models. An offer of ``places`` then needs ``ceil(places / students)``
supervisors.

Offers of one unit and profession in the same term run side by side, so their needs add
up; offers in different terms reuse the same supervisors, so a unit's need is its busiest
term's (the maximum over terms of the per-term sums). Offers overlapping across a term
boundary are counted in their own term only: the simplest rule that never double-counts.
"""

from __future__ import annotations

import math
import uuid
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final

STUDENTS_PER_SUPERVISOR: Final[Mapping[str, int]] = MappingProxyType(
    {"one_to_one": 1, "peer_2_to_1": 2, "group": 4, "student_ward": 6}
)
# A model missing from the table counts as one to one: the most supervisors, so demand is
# never under-reported.
_FALLBACK_STUDENTS: Final = 1


def supervisors_needed(places: int, supervision_model: str) -> int:
    """Supervisors an offer of ``places`` needs under ``supervision_model``."""
    students = STUDENTS_PER_SUPERVISOR.get(supervision_model, _FALLBACK_STUDENTS)
    return math.ceil(max(places, 0) / students)


@dataclass(frozen=True)
class OfferNeed:
    """One offer's facts the rule needs."""

    provider_id: uuid.UUID
    unit_id: uuid.UUID
    profession_code: str
    term: str
    places: int
    supervision_model: str


@dataclass(frozen=True)
class PeakDemand:
    """A unit's need of supervisors of one profession in its busiest term."""

    provider_id: uuid.UUID
    unit_id: uuid.UUID
    profession_code: str
    term: str
    needed: int


def term_order(term: str) -> tuple[int, int]:
    """Chronological sort key of ``YYYY-VT`` (spring) and ``YYYY-HT`` (autumn)."""
    year, half = term.split("-")
    return int(year), 0 if half == "VT" else 1


def peak_demand(offers: Iterable[OfferNeed]) -> list[PeakDemand]:
    """Per provider, unit and profession: the busiest term and its need (earliest on ties)."""
    per_term: dict[tuple[uuid.UUID, uuid.UUID, str], dict[str, int]] = defaultdict(
        lambda: defaultdict(int)
    )
    for offer in offers:
        key = (offer.provider_id, offer.unit_id, offer.profession_code)
        per_term[key][offer.term] += supervisors_needed(offer.places, offer.supervision_model)
    peaks = []
    for (provider_id, unit_id, profession_code), needs in per_term.items():
        term = min(needs, key=lambda t: (-needs[t], term_order(t)))
        peaks.append(PeakDemand(provider_id, unit_id, profession_code, term, needs[term]))
    return peaks
