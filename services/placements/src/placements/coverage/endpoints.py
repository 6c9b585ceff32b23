"""HTTP endpoint of the coverage feature: the agreement gate's answer, for diagnostics."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from vfu_common.errors import ProblemError, problem_responses
from vfu_common.principal import ROLES
from vfu_common.web.deps import DatabaseDep, PrincipalDep, require_roles

from placements.coverage.schemas import CoverageParams, ProjectedCoverageOut
from placements.coverage.service import find_coverage

router = APIRouter(prefix="/api/v1/placements", tags=["agreement coverage"])

# Portals search placements and must not probe who has agreements with whom.
_ALLOWED_ROLES = sorted(ROLES - {"portal"})


@router.get(
    "/agreement-coverage",
    response_model=ProjectedCoverageOut,
    dependencies=[require_roles(*_ALLOWED_ROLES)],  # type: ignore[list-item]
    responses=problem_responses(401, 403, 422),
    summary="Which projected agreement covers a placement",
)
async def read_agreement_coverage(
    params: Annotated[CoverageParams, Query()], db: DatabaseDep, principal: PrincipalDep
) -> ProjectedCoverageOut:
    """Decide coverage as the booking gate does, from this service's agreement projection.

    Compare with the agreements service's own answer: both apply the same rule to the
    same terms, so a difference means the projection lags or missed events. Only the
    university or provider asked about (or an admin) may ask, as in the agreements service.
    """
    asked_about = (params.university_id, params.provider_id)
    if not principal.has_role("admin", "system") and principal.organisation_id not in asked_about:
        raise ProblemError(
            403, "not_a_party", "Not a party", "Ask about placements of your own organisation."
        )
    async with db.read() as session:
        decision = await find_coverage(session, params.to_query())
    return ProjectedCoverageOut.from_decision(decision)
