"""HTTP endpoints of the agreement feature: parse, call one service function, answer."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, status
from vfu_common.errors import problem_responses
from vfu_common.pagination import Page
from vfu_common.web.deps import DatabaseDep, PageDep, PrincipalDep
from vfu_domain.coverage import CoverageQuery

from agreements.contracting import drafting, lifecycle, service
from agreements.contracting.schemas import (
    AgreementAmend,
    AgreementCreate,
    AgreementOut,
    CoverageOut,
)
from agreements.contracting.terms import to_out

router = APIRouter(prefix="/api/v1/agreements", tags=["agreements"])
AGREEMENTS = "/agreements"


@router.post(
    AGREEMENTS,
    status_code=status.HTTP_201_CREATED,
    response_model=AgreementOut,
    responses=problem_responses(401, 403, 409, 422),
    summary="Create a draft agreement",
)
async def create_agreement(
    body: AgreementCreate, db: DatabaseDep, principal: PrincipalDep
) -> AgreementOut:
    """Create a draft between 2..n registered parties (caller: admin, coordinator or a party)."""
    async with db.write() as session:
        agreement = await drafting.create_agreement(session, data=body, principal=principal)
    return to_out(agreement)


@router.get(
    AGREEMENTS,
    response_model=Page[AgreementOut],
    responses=problem_responses(400, 401, 403),
    summary="The caller's agreements",
)
async def list_agreements(
    db: DatabaseDep, principal: PrincipalDep, page: PageDep
) -> Page[AgreementOut]:
    """Agreement versions the caller is a party to (all for admins and coordinators)."""
    async with db.read() as session:
        items, next_cursor = await service.list_agreements(session, principal=principal, page=page)
    return Page[AgreementOut](items=[to_out(a) for a in items], next_cursor=next_cursor)


@router.get(
    "/coverage",
    response_model=CoverageOut,
    responses=problem_responses(401, 403, 422),
    summary="Which active agreement covers a placement",
)
async def read_coverage(
    db: DatabaseDep,
    principal: PrincipalDep,
    university_id: uuid.UUID,
    provider_id: uuid.UUID,
    programme_code: Annotated[str, Query(min_length=1, max_length=64)],
    start: date,
    end: date,
    unit_id: uuid.UUID | None = None,
    municipality_code: Annotated[str | None, Query(pattern=r"^\d{4}$")] = None,
) -> CoverageOut:
    """The decision of the shared coverage rule over this service's agreements."""
    query = CoverageQuery(
        university_id=university_id,
        provider_id=provider_id,
        programme_code=programme_code,
        start=start,
        end=end,
        unit_id=unit_id,
        municipality_code=municipality_code,
    )
    async with db.read() as session:
        decision = await service.coverage(session, query=query, principal=principal)
    return CoverageOut(
        covered=decision.covered,
        reason=decision.reason,
        detail=decision.detail,
        agreement=decision.agreement,
    )


@router.get(
    AGREEMENTS + "/{agreement_id}",
    response_model=AgreementOut,
    responses=problem_responses(401, 403, 404),
    summary="One agreement version",
)
async def read_agreement(
    agreement_id: uuid.UUID, db: DatabaseDep, principal: PrincipalDep
) -> AgreementOut:
    """One agreement version with its full terms and signatures."""
    async with db.read() as session:
        agreement = await service.get_agreement(session, agreement_id, principal=principal)
    return to_out(agreement)


@router.get(
    AGREEMENTS + "/{agreement_id}/history",
    response_model=list[AgreementOut],
    responses=problem_responses(401, 403, 404),
    summary="Every version of the agreement",
)
async def read_agreement_history(
    agreement_id: uuid.UUID, db: DatabaseDep, principal: PrincipalDep
) -> list[AgreementOut]:
    """All versions of the agreement's series, oldest first."""
    async with db.read() as session:
        versions = await service.history(session, agreement_id, principal=principal)
    return [to_out(a) for a in versions]


@router.post(
    AGREEMENTS + "/{agreement_id}/propose",
    response_model=AgreementOut,
    responses=problem_responses(401, 403, 404, 409),
    summary="Send a draft for signature",
)
async def propose_agreement(
    agreement_id: uuid.UUID, db: DatabaseDep, principal: PrincipalDep
) -> AgreementOut:
    """draft → pending_signatures; emits ``proposed``."""
    async with db.write() as session:
        agreement = await lifecycle.propose(session, agreement_id, principal=principal)
    return to_out(agreement)


@router.post(
    AGREEMENTS + "/{agreement_id}/sign",
    response_model=AgreementOut,
    responses=problem_responses(401, 403, 404, 409),
    summary="Sign for the caller's organisation",
)
async def sign_agreement(
    agreement_id: uuid.UUID, db: DatabaseDep, principal: PrincipalDep
) -> AgreementOut:
    """The caller's organisation signs; the last signature activates it once valid_from came."""
    async with db.write() as session:
        agreement = await lifecycle.sign(session, agreement_id, principal=principal)
    return to_out(agreement)


@router.post(
    AGREEMENTS + "/{agreement_id}/abandon",
    response_model=AgreementOut,
    responses=problem_responses(401, 403, 404, 409),
    summary="Abandon an agreement before it is active",
)
async def abandon_agreement(
    agreement_id: uuid.UUID, db: DatabaseDep, principal: PrincipalDep
) -> AgreementOut:
    """draft or pending_signatures → abandoned; emits ``abandoned``."""
    async with db.write() as session:
        agreement = await lifecycle.abandon(session, agreement_id, principal=principal)
    return to_out(agreement)


@router.post(
    AGREEMENTS + "/{agreement_id}/notice",
    response_model=AgreementOut,
    responses=problem_responses(401, 403, 404, 409),
    summary="Give notice for the caller's organisation",
)
async def give_notice(
    agreement_id: uuid.UUID, db: DatabaseDep, principal: PrincipalDep
) -> AgreementOut:
    """active → notice_given, ending after the notice period; emits ``notice_given``."""
    async with db.write() as session:
        agreement = await lifecycle.give_notice(session, agreement_id, principal=principal)
    return to_out(agreement)


@router.post(
    AGREEMENTS + "/{agreement_id}/amend",
    status_code=status.HTTP_201_CREATED,
    response_model=AgreementOut,
    responses=problem_responses(401, 403, 404, 409, 422),
    summary="Draft an amendment (a new version)",
)
async def amend_agreement(
    agreement_id: uuid.UUID, body: AgreementAmend, db: DatabaseDep, principal: PrincipalDep
) -> AgreementOut:
    """A new draft version in the same series, superseding this one from ``effective_from``."""
    async with db.write() as session:
        agreement = await drafting.amend(session, agreement_id, data=body, principal=principal)
    return to_out(agreement)
