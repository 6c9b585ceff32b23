"""HTTP endpoints of the organisation feature."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, status
from vfu_common.errors import problem_responses
from vfu_common.pagination import Page
from vfu_common.web.deps import DatabaseDep, PageDep, PrincipalDep, require_roles

from agreements.organisations import service
from agreements.organisations.schemas import (
    OrganisationChange,
    OrganisationCreate,
    OrganisationFilter,
    OrganisationOut,
)

router = APIRouter(prefix="/api/v1/agreements/organisations", tags=["organisations"])


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=OrganisationOut,
    dependencies=[require_roles("admin")],  # type: ignore[list-item]
    responses=problem_responses(401, 403, 409, 422),
    summary="Register an organisation",
)
async def register_organisation(body: OrganisationCreate, db: DatabaseDep) -> OrganisationOut:
    """Register a region, municipality, university, private provider or coordinating body.

    Emits ``vfu.agreements.organisation.registered.v1``.
    """
    async with db.write() as session:
        organisation = await service.register_organisation(session, data=body)
    return OrganisationOut.model_validate(organisation)


@router.get(
    "",
    response_model=Page[OrganisationOut],
    responses=problem_responses(400, 401, 422),
    summary="Search organisations",
)
async def search_organisations(
    criteria: Annotated[OrganisationFilter, Query()],
    page: PageDep,
    db: DatabaseDep,
    _principal: PrincipalDep,
) -> Page[OrganisationOut]:
    """Organisations by kind, county, healthcare region and part of the name, by name.

    An organisation is found under each of its healthcare regions (Region Halland under
    both Södra and Västra).
    """
    async with db.read() as session:
        items, next_cursor = await service.search_organisations(session, criteria, page=page)
        return Page[OrganisationOut](
            items=[OrganisationOut.model_validate(item) for item in items],
            next_cursor=next_cursor,
        )


@router.patch(
    "/{organisation_id}",
    response_model=OrganisationOut,
    dependencies=[require_roles("admin")],  # type: ignore[list-item]
    responses=problem_responses(401, 403, 404, 422),
    summary="Change an organisation",
)
async def change_organisation(
    organisation_id: uuid.UUID, body: OrganisationChange, db: DatabaseDep
) -> OrganisationOut:
    """Change name, HSA-id or municipality (which re-derives county and healthcare regions).

    Emits ``vfu.agreements.organisation.changed.v1`` with the full new state and a version
    one higher, unless the request changes nothing.
    """
    async with db.write() as session:
        organisation = await service.change_organisation(session, organisation_id, data=body)
        return OrganisationOut.model_validate(organisation)


@router.get(
    "/{organisation_id}",
    response_model=OrganisationOut,
    responses=problem_responses(401, 404),
    summary="One organisation",
)
async def read_organisation(
    organisation_id: uuid.UUID, db: DatabaseDep, _principal: PrincipalDep
) -> OrganisationOut:
    """Read one organisation by id."""
    async with db.read() as session:
        organisation = await service.get_organisation(session, organisation_id)
    return OrganisationOut.model_validate(organisation)
