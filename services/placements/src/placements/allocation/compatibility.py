"""The one home of which demand line may take which offer's places, and at what cost.

A line may take an offer of its profession (and of its programme, when the offer names
one), of a care setting it wants (any, when it names none), in an area it wants (any,
when it names none), covering its weeks. A line that accepts other weeks or another
municipality may also take offers outside them, at a cost, so allocation prefers what
was asked for and falls back on the alternatives only for places it would otherwise
leave empty. Coverage by an agreement is decided by the booking gate's rule, beside this.

``max_distance_km`` is not applied yet: the platform has no campus locations to measure
from; the area lists stand in for distance.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Final

# Penalties in the solver's cost unit (lower is better), per place.
OTHER_WEEKS: Final = 20
OTHER_MUNICIPALITY_IN_COUNTY: Final = 10
OTHER_COUNTY: Final = 40


@dataclass(frozen=True)
class LineFacts:
    """What the rule reads of a demand line."""

    profession_code: str
    programme_code: str
    start_date: date
    end_date: date
    care_settings: tuple[str, ...]
    municipality_codes: tuple[str, ...]
    county_codes: tuple[str, ...]
    accepts_other_municipality: bool
    accepts_other_weeks: bool


@dataclass(frozen=True)
class OfferFacts:
    """What the rule reads of an offer."""

    profession_code: str
    programme_code: str | None
    start_date: date
    end_date: date
    care_setting: str
    municipality_code: str
    county_code: str


def cost(line: LineFacts, offer: OfferFacts) -> int | None:
    """The cost per place of ``line`` taking ``offer``'s places, or None if it may not."""
    if offer.profession_code != line.profession_code:
        return None
    if offer.programme_code is not None and offer.programme_code != line.programme_code:
        return None
    if line.care_settings and offer.care_setting not in line.care_settings:
        return None
    total = 0
    if not (offer.start_date <= line.start_date and line.end_date <= offer.end_date):
        if not line.accepts_other_weeks:
            return None
        total += OTHER_WEEKS
    area = _area_cost(line, offer)
    return None if area is None else total + area


def _area_cost(line: LineFacts, offer: OfferFacts) -> int | None:
    if not (line.municipality_codes or line.county_codes):
        return 0
    if offer.municipality_code in line.municipality_codes or offer.county_code in line.county_codes:
        return 0
    if not line.accepts_other_municipality:
        return None
    # A municipality code's first two digits are its county's code.
    counties = set(line.county_codes) | {code[:2] for code in line.municipality_codes}
    return OTHER_MUNICIPALITY_IN_COUNTY if offer.county_code in counties else OTHER_COUNTY
