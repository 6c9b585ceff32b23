"""Which quotas a booking counts against, and by how much: the rule, in one place.

A booking counts against the quotas of its covering agreement's series that name its
university, its term, and its offer's programme code or profession code (an agreement
may list either). Against a ``places`` quota it counts the places it takes (held while
requested, confirmed afterwards); against a ``student_weeks`` quota those places times
the ISO weeks its period touches, as settlement counts them.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from vfu_common.events.contracts import AgreementTermsV1

from placements.bookings.events import iso_weeks_spanned


@dataclass(frozen=True)
class Claim:
    """Places one booking takes (or gives back), whatever agreement it is under."""

    university_id: uuid.UUID
    term: str
    programme_codes: tuple[str, ...]
    places: int
    weeks: int

    def amount(self, unit: str) -> int:
        """What the claim counts in ``unit``."""
        return self.places if unit == "places" else self.places * self.weeks


def claim(
    *,
    university_id: uuid.UUID,
    term: str,
    codes: Iterable[str | None],
    start: date,
    end: date,
    places: int,
) -> Claim:
    """The claim of ``places`` on a placement of ``term`` from ``start`` to ``end``."""
    return Claim(
        university_id=university_id,
        term=term,
        programme_codes=tuple(sorted({code for code in codes if code})),
        places=places,
        weeks=iso_weeks_spanned(start, end),
    )


def quota_keys(
    terms: Iterable[AgreementTermsV1], series_id: uuid.UUID, claim: Claim
) -> list[tuple[str, str]]:
    """(programme code, unit) of every quota of the series the claim may count against,
    sorted.

    Read from every projected version of the series the caller has at hand: a superset
    of the rows ``quotas.projection`` keeps (those of the latest covering version), so a
    booking without a quota skips the quota table altogether.
    """
    keys = {
        (quota.programme_code, quota.unit)
        for version in terms
        if version.series_id == series_id
        for quota in version.quotas
        if quota.university_organisation_id == claim.university_id
        and quota.term == claim.term
        and quota.programme_code in claim.programme_codes
    }
    return sorted(keys)
