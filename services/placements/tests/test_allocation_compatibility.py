"""Which demand line may take which offer, and at what cost (``allocation.compatibility``);
and the fairness index of a run's report."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest
from placements.allocation.compatibility import (
    OTHER_COUNTY,
    OTHER_MUNICIPALITY_IN_COUNTY,
    OTHER_WEEKS,
    LineFacts,
    OfferFacts,
    cost,
)
from placements.allocation.report import jain

LINE = LineFacts(
    profession_code="sjukskoterska",
    programme_code="sjukskoterskeprogrammet",
    start_date=date(2027, 9, 6),
    end_date=date(2027, 10, 29),
    care_settings=("slutenvard",),
    municipality_codes=("0380",),
    county_codes=(),
    accepts_other_municipality=False,
    accepts_other_weeks=False,
)
OFFER = OfferFacts(
    profession_code="sjukskoterska",
    programme_code="sjukskoterskeprogrammet",
    start_date=date(2027, 8, 30),
    end_date=date(2027, 11, 5),
    care_setting="slutenvard",
    municipality_code="0380",
    county_code="03",
)


def test_an_offer_of_everything_asked_for_costs_nothing() -> None:
    assert cost(LINE, OFFER) == 0
    assert cost(LINE, replace(OFFER, programme_code=None)) == 0  # any programme of the profession
    assert cost(replace(LINE, care_settings=(), municipality_codes=()), OFFER) == 0


@pytest.mark.parametrize(
    "offer",
    [
        replace(OFFER, profession_code="barnmorska"),
        replace(OFFER, programme_code="specialistsjukskoterskeprogrammet"),
        replace(OFFER, care_setting="primarvard"),
        replace(OFFER, start_date=date(2027, 9, 13)),  # starts after the line does
        replace(OFFER, municipality_code="0381"),
    ],
)
def test_what_the_line_did_not_ask_for_or_accept_is_not_offered(offer: OfferFacts) -> None:
    assert cost(LINE, offer) is None


def test_accepted_alternatives_cost_their_penalty() -> None:
    flexible = replace(LINE, accepts_other_municipality=True, accepts_other_weeks=True)
    assert cost(flexible, replace(OFFER, municipality_code="0381")) == OTHER_MUNICIPALITY_IN_COUNTY
    elsewhere = replace(OFFER, municipality_code="1880", county_code="18")
    assert cost(flexible, elsewhere) == OTHER_COUNTY
    later = replace(OFFER, start_date=date(2027, 9, 13))
    assert cost(flexible, later) == OTHER_WEEKS
    assert cost(flexible, replace(later, municipality_code="0381")) == (
        OTHER_WEEKS + OTHER_MUNICIPALITY_IN_COUNTY
    )
    # A county named on the line is in its area.
    by_county = replace(LINE, municipality_codes=(), county_codes=("18",))
    assert cost(by_county, elsewhere) == 0


def test_jains_index_is_one_when_alike_and_one_over_n_when_one_takes_all() -> None:
    assert jain([0.5, 0.5, 0.5]) == 1.0
    assert jain([1.0, 0.0, 0.0, 0.0]) == 0.25
    assert jain([1.0, 0.5]) == 0.9  # (1.5)^2 / (2 * 1.25)
    assert jain([]) is None
