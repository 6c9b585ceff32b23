"""Coverage decided from the placements service's own agreement projection."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession
from vfu_domain.coverage import CoverageDecision, CoverageQuery, decide_coverage

from placements.projections.agreements import terms_between

__all__ = ["CoverageDecision", "CoverageQuery", "find_coverage"]


async def find_coverage(session: AsyncSession, query: CoverageQuery) -> CoverageDecision:
    """Decide coverage from the projected agreements between the query's two parties.

    Only agreements with both parties are loaded: the rule ignores every other one, so
    the decision equals ``decide_coverage`` over all projected agreements, and the
    agreements service (same rule, its own tables) answers the same.

    Raises:
        ValueError: ``query.end`` is before ``query.start``.
    """
    candidates = await terms_between(
        session, university_id=query.university_id, provider_id=query.provider_id
    )
    return decide_coverage(candidates, query)
