"""HTTP endpoints of the capacity-offer feature: parse, call one service function, answer."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, status
from vfu_common.errors import problem_responses
from vfu_common.idempotency import IdempotencyGuard, IdempotencyKeyHeader
from vfu_common.pagination import Page
from vfu_common.web.deps import DatabaseDep, PageDep, PrincipalDep, require_roles
from vfu_domain.terms import TERM_PATTERN

from placements.offers import service
from placements.offers.repository import OfferFilter
from placements.offers.schemas import OfferCreate, OfferOut, OfferUpdate, OfferWithdraw
from placements.vocabularies import OfferStatus

router = APIRouter(prefix="/api/v1/placements", tags=["capacity offers"])
OFFERS = "/offers"
OFFER = OFFERS + "/{offer_id}"
_MANAGERS = require_roles("provider", "admin")


@router.post(
    OFFERS,
    status_code=status.HTTP_201_CREATED,
    response_model=OfferOut,
    dependencies=[_MANAGERS],  # type: ignore[list-item]
    responses=problem_responses(401, 403, 404, 409, 422),
    summary="Offer placements on a care unit",
)
async def create_offer(
    body: OfferCreate,
    db: DatabaseDep,
    principal: PrincipalDep,
    idempotency_key: IdempotencyKeyHeader = None,
) -> Any:
    """A draft on a unit of the caller's organisation; ``publish: true`` publishes at once."""
    guard = IdempotencyGuard.for_request(
        principal.subject, idempotency_key, "POST /offers", body.model_dump(mode="json")
    )
    async with db.write() as session:
        if (stored := await guard.claim(session)) is not None:
            return stored.as_response()
        out = service.to_out(await service.create_offer(session, data=body, principal=principal))
        await guard.remember(session, status.HTTP_201_CREATED, out.model_dump_json())
    return out


@router.get(
    OFFERS,
    response_model=Page[OfferOut],
    responses=problem_responses(400, 401, 422),
    summary="Offers the caller may see",
)
async def list_offers(
    db: DatabaseDep,
    principal: PrincipalDep,
    page: PageDep,
    status_: Annotated[OfferStatus | None, Query(alias="status")] = None,
    unit_id: uuid.UUID | None = None,
    provider_id: uuid.UUID | None = None,
    term: Annotated[str | None, Query(pattern=TERM_PATTERN)] = None,
) -> Page[OfferOut]:
    """Own offers (drafts included) for providers; published ones as visibility allows."""
    filters = OfferFilter(status=status_, unit_id=unit_id, provider_id=provider_id, term=term)
    async with db.read() as session:
        rows, next_cursor = await service.list_offers(
            session, principal=principal, filters=filters, page=page
        )
    return Page[OfferOut](items=[service.to_out(r) for r in rows], next_cursor=next_cursor)


@router.get(
    OFFER,
    response_model=OfferOut,
    responses=problem_responses(401, 404),
    summary="One offer",
)
async def read_offer(offer_id: uuid.UUID, db: DatabaseDep, principal: PrincipalDep) -> OfferOut:
    """One offer the caller may see."""
    async with db.read() as session:
        return service.to_out(await service.get_offer(session, offer_id, principal=principal))


@router.patch(
    OFFER,
    response_model=OfferOut,
    dependencies=[_MANAGERS],  # type: ignore[list-item]
    responses=problem_responses(401, 403, 404, 409, 422),
    summary="Change an offer",
)
async def update_offer(
    offer_id: uuid.UUID, body: OfferUpdate, db: DatabaseDep, principal: PrincipalDep
) -> OfferOut:
    """Drafts change freely; published offers only places, requirements, visibility and
    auto_confirm."""
    async with db.write() as session:
        row = await service.update_offer(session, offer_id, data=body, principal=principal)
    return service.to_out(row)


@router.post(
    OFFER + "/publish",
    response_model=OfferOut,
    dependencies=[_MANAGERS],  # type: ignore[list-item]
    responses=problem_responses(401, 403, 404, 409),
    summary="Publish a draft offer",
)
async def publish_offer(offer_id: uuid.UUID, db: DatabaseDep, principal: PrincipalDep) -> OfferOut:
    """draft → published; emits ``offer.published``."""
    async with db.write() as session:
        row = await service.publish(session, offer_id, principal=principal)
    return service.to_out(row)


@router.post(
    OFFER + "/close",
    response_model=OfferOut,
    dependencies=[_MANAGERS],  # type: ignore[list-item]
    responses=problem_responses(401, 403, 404, 409),
    summary="Close an offer to new bookings",
)
async def close_offer(offer_id: uuid.UUID, db: DatabaseDep, principal: PrincipalDep) -> OfferOut:
    """published → closed; existing bookings stand; emits ``offer.closed``."""
    async with db.write() as session:
        row = await service.close(session, offer_id, principal=principal)
    return service.to_out(row)


@router.post(
    OFFER + "/withdraw",
    response_model=OfferOut,
    dependencies=[_MANAGERS],  # type: ignore[list-item]
    responses=problem_responses(401, 403, 404, 409, 422),
    summary="Withdraw an offer, cancelling its open bookings",
)
async def withdraw_offer(
    offer_id: uuid.UUID,
    db: DatabaseDep,
    principal: PrincipalDep,
    body: Annotated[OfferWithdraw | None, Body()] = None,
) -> OfferOut:
    """draft, published or closed → withdrawn. Requested and confirmed bookings are
    cancelled with reason ``offer_withdrawn`` (each announced); emits ``offer.withdrawn``."""
    reason = body.reason if body is not None else None
    async with db.write() as session:
        row = await service.withdraw(session, offer_id, reason=reason, principal=principal)
    return service.to_out(row)
