"""HTTP endpoints of the quotas feature."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from vfu_common.errors import problem_responses
from vfu_common.pagination import Page
from vfu_common.web.deps import DatabaseDep, PageDep, PrincipalDep

from placements.quotas import service
from placements.quotas.schemas import QuotaFilters, QuotaUseOut

router = APIRouter(prefix="/api/v1/placements", tags=["quotas"])


@router.get(
    "/quotas",
    response_model=Page[QuotaUseOut],
    responses=problem_responses(400, 401, 403, 422),
    summary="Quota use per agreement, university and term",
)
async def list_quotas(
    db: DatabaseDep,
    principal: PrincipalDep,
    page: PageDep,
    filters: Annotated[QuotaFilters, Depends()],
) -> Page[QuotaUseOut]:
    """The quotas of agreements and how much of each is booked: a university its own, a
    provider those of its agreements, coordinators and admins all. Filter by
    ``agreement_id`` (any version), ``university_id`` and ``term``."""
    async with db.read() as session:
        items, next_cursor = await service.list_quotas(
            session, principal=principal, filters=filters, page=page
        )
    return Page[QuotaUseOut](items=items, next_cursor=next_cursor)
