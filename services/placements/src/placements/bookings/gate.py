"""The agreement gate: may this university book this offer, and under which agreement?

Decided from the service's own projection of agreements (never by calling the agreements
service), with the coverage rule every service shares. A university sees published
offers for everyone, and partners-only offers of providers it has a live agreement with.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession
from vfu_common.errors import ProblemError
from vfu_common.events.contracts import AgreementTermsV1
from vfu_domain.coverage import (
    COVERING_STATUSES,
    CoverageDecision,
    CoverageQuery,
    decide_coverage,
)

from placements.bookings import errors, repository
from placements.bookings.schemas import BookingCreate
from placements.offers.models import Offer
from placements.quotas import claims, counters


def require_visible_offer(offer: Offer, terms: Sequence[AgreementTermsV1]) -> None:
    """A university sees published offers for everyone, and partners-only offers of
    providers it has a live agreement with (``offers.access``, decided here from the terms
    the gate reads anyway: they are exactly the agreements naming both parties)."""
    if offer.status == "draft":  # drafts are their provider's alone
        raise errors.offer_not_found(offer.id)
    if offer.visibility == "partners" and not any(t.status in COVERING_STATUSES for t in terms):
        raise errors.offer_not_found(offer.id)


def covering_agreement(
    terms: Sequence[AgreementTermsV1], offer: Offer, university_id: uuid.UUID
) -> uuid.UUID:
    """The agreement version covering the placement, from the service's own projection."""
    decision = covering_decision(terms, offer, university_id)
    if decision.agreement is None:
        raise errors.NoActiveAgreementError(decision.reason, decision.detail)
    return decision.agreement.agreement_id


def covering_decision(
    terms: Sequence[AgreementTermsV1], offer: Offer, university_id: uuid.UUID
) -> CoverageDecision:
    """The coverage rule for the offer, by its programme code and then its profession code.

    An agreement may list the programme (``sjukskoterskeprogrammet``) or only the
    profession (``sjukskoterska``); either covers. When neither does, the refusal for the
    programme is given unless the programme is what failed (then the profession's).
    """
    codes = [c for c in (offer.programme_code, offer.profession_code) if c]
    decision: CoverageDecision | None = None
    for code in dict.fromkeys(codes):
        query = CoverageQuery(
            university_id=university_id,
            provider_id=offer.provider_id,
            programme_code=code,
            start=offer.start_date,
            end=offer.end_date,
            unit_id=offer.unit_id,
            municipality_code=offer.municipality_code,
        )
        attempt = decide_coverage(terms, query)
        if attempt.covered:
            return attempt
        if decision is None or decision.reason == "programme_not_covered":
            decision = attempt
    assert decision is not None  # profession_code is NOT NULL
    return decision


async def count_against_quotas(
    session: AsyncSession,
    terms: Sequence[AgreementTermsV1],
    agreement_id: uuid.UUID,
    offer: Offer,
    university_id: uuid.UUID,
    places: int,
) -> None:
    """Count the places against the quotas of the covering agreement's series.

    Raises:
        ProblemError: 409 ``quota_exceeded`` when a ceiling quota would be passed.
    """
    series_id = next(t.series_id for t in terms if t.agreement_id == agreement_id)
    claim = claims.claim(
        university_id=university_id,
        term=offer.term,
        codes=(offer.programme_code, offer.profession_code),
        start=offer.start_date,
        end=offer.end_date,
        places=places,
    )
    keys = claims.quota_keys(terms, series_id, claim)
    if keys:  # most agreements have no quota for the booking: no statement then
        await counters.take(session, series_id, claim, keys)


async def why_not_taken(
    session: AsyncSession,
    data: BookingCreate,
    terms: Sequence[AgreementTermsV1],
    university_id: uuid.UUID,
) -> Exception:
    """The refusal for a conditional UPDATE that took nothing, by the rules' order."""
    offer = await repository.get_offer(session, data.offer_id)
    if offer is None:
        return errors.offer_not_found(data.offer_id)
    try:
        require_visible_offer(offer, terms)
        if offer.status != "published":
            return errors.offer_not_bookable(data.offer_id, offer.status)
        covering_agreement(terms, offer, university_id)
    except ProblemError as refusal:
        return refusal
    return errors.capacity_exceeded(data.places, max(offer.free_places, 0))
