"""HTTP endpoint of the search feature."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Response
from vfu_common.errors import problem_responses
from vfu_common.web.deps import DatabaseDep, PrincipalDep

from placements.search import service
from placements.search.conditional import conditional_json
from placements.search.query import openapi_parameters, search_params
from placements.search.schemas import SearchPage, SearchParams

router = APIRouter(prefix="/api/v1/placements", tags=["search"])

_NOT_MODIFIED: dict[int | str, dict[str, Any]] = {
    304: {"description": "The copy named in If-None-Match is current; no body"}
}


@router.get(
    "/search/offers",
    response_model=SearchPage,
    responses=_NOT_MODIFIED | problem_responses(400, 401, 422),
    summary="Search published offers with free places",
    openapi_extra={"parameters": openapi_parameters(SearchParams)},
)
async def search_offers(
    params: Annotated[SearchParams, Depends(search_params)],
    db: DatabaseDep,
    principal: PrincipalDep,
    if_none_match: Annotated[str | None, Header()] = None,
) -> Response:
    """Published offers with free places that the caller may see, filtered, sorted, paged.

    Every role may search. Offers visible to `partners` only are listed for the owning
    provider, admins, coordinators, and universities (or portals acting for one) with a
    covering agreement with the provider. Each item carries aggregates only (free places),
    never bookings, students or supervisors.

    Dates: `starts_on_or_after` and `ends_on_or_before` are inclusive; together they list
    offers lying entirely inside the window. Distance: `near_lat`, `near_lon` and
    `within_km` come together; the great-circle (haversine) distance is returned as
    `distance_km` and `sort=distance` orders by it.

    The response carries a strong `ETag`; send it back in `If-None-Match` to get a 304
    while nothing you would see has changed.
    """
    body = await service.search_offers(db, params, principal=principal)
    return conditional_json(body, if_none_match)
