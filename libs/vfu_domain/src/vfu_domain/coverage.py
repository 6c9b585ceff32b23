"""The coverage rule: which active agreement covers a placement?

"Which agreement covers university U placing programme P at provider O (a unit, or a
municipality) from D1 to D2?" The agreements service answers it from its tables and the
placements service from its projection of agreement events; both pass the same
``AgreementTermsV1`` objects to this one function, so their answers cannot differ.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from vfu_common.events.contracts import PROVIDER_ROLES, AgreementTermsV1

# Agreement statuses that cover new placements.
COVERING_STATUSES = frozenset({"active", "notice_given"})
# Statuses of agreement versions that covered placements for (part of) their dates: a
# terminated or expired version still covered the days it was in force.
IN_FORCE_STATUSES = frozenset({*COVERING_STATUSES, "terminated", "expired"})


@dataclass(frozen=True)
class CoverageQuery:
    """A placement to be covered; ``unit_id`` and ``municipality_code`` locate it."""

    university_id: uuid.UUID
    provider_id: uuid.UUID
    programme_code: str
    start: date
    end: date
    unit_id: uuid.UUID | None = None
    municipality_code: str | None = None


@dataclass(frozen=True)
class CoverageDecision:
    """The covering agreement, or why none covers (``reason`` is a stable code)."""

    covered: bool
    reason: str
    detail: str
    agreement: AgreementTermsV1 | None = None


# Refusal reasons from the farthest from covering to the nearest: when several agreements
# between the parties fail, the caller is told about the one that came closest.
_REASONS = (
    "no_agreement_between_parties",
    "agreement_not_active",
    "programme_not_covered",
    "place_not_covered",
    "dates_not_covered",
)


def effective_until(terms: AgreementTermsV1) -> date | None:
    """The last day ``terms`` cover (None when open-ended)."""
    return terms.effective_until if terms.effective_until is not None else terms.valid_to


def _has_party(terms: AgreementTermsV1, organisation_id: uuid.UUID, roles: Iterable[str]) -> bool:
    allowed = set(roles)
    return any(p.organisation_id == organisation_id and p.role in allowed for p in terms.parties)


def _first_failure(terms: AgreementTermsV1, query: CoverageQuery) -> str | None:
    if terms.status not in COVERING_STATUSES:
        return "agreement_not_active"
    if query.programme_code not in terms.programmes and query.programme_code not in (
        terms.professions
    ):
        return "programme_not_covered"
    scoped = bool(terms.covered_unit_ids or terms.covered_municipality_codes)
    if scoped and not (
        (query.unit_id is not None and query.unit_id in terms.covered_unit_ids)
        or (
            query.municipality_code is not None
            and query.municipality_code in terms.covered_municipality_codes
        )
    ):
        return "place_not_covered"
    until = effective_until(terms)
    if query.start < terms.valid_from or (until is not None and query.end > until):
        return "dates_not_covered"
    return None


_DETAILS = {
    "no_agreement_between_parties": "No agreement has both the university and the provider "
    "as parties.",
    "agreement_not_active": "An agreement between the parties exists but is not active.",
    "programme_not_covered": "No active agreement between the parties covers the programme.",
    "place_not_covered": "No active agreement between the parties covers this unit or "
    "municipality.",
    "dates_not_covered": "No active agreement between the parties covers the whole period.",
}


def _chain(versions: Iterable[AgreementTermsV1], start: date, end: date) -> AgreementTermsV1 | None:
    """The version in force at ``start`` if consecutive versions cover start..end, else None.

    An amendment ends its predecessor the day before it takes effect, so a placement that
    spans that day is covered by the series although by neither version alone.
    """
    reach, first = start, None  # reach: the first day not yet covered
    for version in sorted(versions, key=lambda t: (t.valid_from, t.version_number)):
        if version.valid_from > reach:
            return None  # a gap: versions are sorted, so no later one starts earlier
        until = effective_until(version)
        if until is not None and until < reach:
            continue
        first = first or version
        if until is None or until >= end:
            return first
        reach = until + timedelta(days=1)
    return None


def decide_coverage(
    agreements: Iterable[AgreementTermsV1], query: CoverageQuery
) -> CoverageDecision:
    """Return the covering agreement with the latest ``valid_from``, or the nearest refusal.

    Versions of one series that each cover the programme and place but only part of the
    period cover it together when they leave no gap; the version in force at the start is
    returned then.
    """
    if query.end < query.start:
        raise ValueError("end before start")
    nearest = 0
    covering: list[AgreementTermsV1] = []
    partly: dict[uuid.UUID, list[AgreementTermsV1]] = defaultdict(list)
    for terms in agreements:
        if not (
            _has_party(terms, query.university_id, {"university"})
            and _has_party(terms, query.provider_id, PROVIDER_ROLES)
        ):
            continue
        failure = _first_failure(terms, query)
        if failure is None:
            covering.append(terms)
            continue
        nearest = max(nearest, _REASONS.index(failure))
        if failure == "dates_not_covered":
            partly[terms.series_id].append(terms)
    if not covering:
        chained = (_chain(versions, query.start, query.end) for versions in partly.values())
        covering = [first for first in chained if first is not None]
    if covering:
        chosen = max(covering, key=lambda t: (t.valid_from, t.version_number, str(t.agreement_id)))
        return CoverageDecision(
            True, "covered", f"Covered by agreement {chosen.agreement_id}.", chosen
        )
    reason = _REASONS[nearest]
    return CoverageDecision(False, reason, _DETAILS[reason])
