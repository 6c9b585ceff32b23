"""HTTP endpoints of the organisation feature."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, status
from vfu_common.errors import problem_responses
from vfu_common.web.deps import DatabaseDep, PrincipalDep, require_roles

from agreements.organisations import service
from agreements.organisations.schemas import OrganisationCreate, OrganisationOut

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
