"""Rules of capacity offers: who sees and manages them, their terms, their events.

Every change counts in the offer's ``version``, which is the aggregate version of its
events; a published offer's changes are announced (``offer.updated``), a draft's are
private. Status changes go through ``offers.transitions``.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Final

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession
from vfu_common.errors import validation_problem
from vfu_common.events.contracts import OFFER_PUBLISHED, OFFER_UPDATED
from vfu_common.pagination import PageParams, after_id, id_page
from vfu_common.principal import Principal
from vfu_common.rows import values_of
from vfu_common.utc import utcnow
from vfu_common.uuid7 import new_id

from placements.offers import errors, repository, transitions, withdrawal
from placements.offers.access import visible_to
from placements.offers.events import emit_offer_event
from placements.offers.models import Offer
from placements.offers.schemas import (
    PUBLISHED_EDITABLE,
    OfferCreate,
    OfferFields,
    OfferOut,
    OfferUpdate,
)
from placements.units import errors as unit_errors
from placements.units import repository as units
from placements.units.access import may_manage, require_manager
from placements.units.models import Unit

# The unit columns every offer copies (offers/models.py), so the search needs no join.
LOCATION_COLUMNS: Final = (
    "municipality_code",
    "county_code",
    "healthcare_region",
    "care_setting",
    "rural",
    "vulnerable_area",
    "latitude",
    "longitude",
)
_FIELDS: Final = tuple(OfferFields.model_fields)


def location_of(unit: Unit) -> dict[str, Any]:
    """The columns an offer copies from its unit."""
    return {column: getattr(unit, column) for column in LOCATION_COLUMNS}


def to_out(row: Offer) -> OfferOut:
    """The API view of a stored offer."""
    return OfferOut.model_validate(
        {
            **values_of(row),
            "requirements": json.loads(row.requirements),
            "free_places": row.free_places,
        }
    )


def _stored_fields(row: Offer) -> dict[str, Any]:
    values = {name: getattr(row, name) for name in _FIELDS}
    values["requirements"] = json.loads(row.requirements)
    return values


def _storage(fields: OfferFields) -> dict[str, Any]:
    values = {name: getattr(fields, name) for name in _FIELDS}
    values["requirements"] = json.dumps(values["requirements"])
    return values


# --- units and access ----------------------------------------------------------------------


def require_unit_for_offer(unit: Unit | None, unit_id: uuid.UUID, principal: Principal) -> Unit:
    """The unit an offer is placed on, which the caller must manage.

    Raises:
        ProblemError: 404 ``unit_not_found``; 403 ``not_owner``.
    """
    if unit is None:
        raise unit_errors.unit_not_found(unit_id)
    require_manager(principal, unit)
    return unit


async def _managed_unit(session: AsyncSession, unit_id: uuid.UUID, principal: Principal) -> Unit:
    return require_unit_for_offer(await units.get(session, unit_id), unit_id, principal)


async def _load_visible(
    session: AsyncSession, offer_id: uuid.UUID, principal: Principal, *, for_update: bool = False
) -> Offer:
    offer = await repository.get(
        session, offer_id, visible=visible_to(principal), for_update=for_update
    )
    if offer is None:
        raise errors.offer_not_found(offer_id)
    return offer


async def _load_managed(session: AsyncSession, offer_id: uuid.UUID, principal: Principal) -> Offer:
    """The offer, locked, for its provider or an admin: 404 if invisible, else 403."""
    offer = await _load_visible(session, offer_id, principal, for_update=True)
    if not may_manage(principal, offer.provider_id):
        raise unit_errors.not_owner(f"offer {offer_id}")
    return offer


async def _reload(session: AsyncSession, offer_id: uuid.UUID) -> Offer:
    (row,) = await repository.get_many(session, [offer_id])
    return row


# --- creating ------------------------------------------------------------------------------


def new_offer_row(fields: OfferFields, unit: Unit, *, publish: bool, now: datetime) -> Offer:
    """A new offer on ``unit``: a draft, or published at ``now``."""
    values = {
        **_storage(fields),
        **location_of(unit),
        "id": new_id(),
        "provider_id": unit.provider_id,
        "held_places": 0,
        "confirmed_places": 0,
        "released_at": None,
        "version": 1,
        "created_at": now,
        "updated_at": now,
    }
    return Offer(**transitions.opened(values, publish=publish))


async def store_new_offers(session: AsyncSession, rows: Sequence[Offer]) -> None:
    """Insert new offers in one statement and announce the published ones."""
    await repository.add_many(session, [values_of(row) for row in rows])
    for row in rows:
        if row.status == "published":
            await emit_offer_event(session, OFFER_PUBLISHED, row)


async def create_offer(session: AsyncSession, *, data: OfferCreate, principal: Principal) -> Offer:
    """A draft offer on a unit the caller manages, or a published one if ``data.publish``.

    Raises:
        ProblemError: 404 ``unit_not_found``; 403 ``not_owner``.
    """
    unit = await _managed_unit(session, data.unit_id, principal)
    row = new_offer_row(data, unit, publish=data.publish, now=utcnow())
    await store_new_offers(session, [row])
    return await _reload(session, row.id)


# --- reading -------------------------------------------------------------------------------


async def get_offer(session: AsyncSession, offer_id: uuid.UUID, *, principal: Principal) -> Offer:
    """One offer the caller may see (404 ``offer_not_found`` otherwise)."""
    return await _load_visible(session, offer_id, principal)


async def list_offers(
    session: AsyncSession,
    *,
    principal: Principal,
    filters: repository.OfferFilter,
    page: PageParams,
) -> tuple[list[Offer], str | None]:
    """A page of the offers the caller may see, filtered, in creation order."""
    rows = await repository.page(
        session,
        visible=visible_to(principal),
        filters=filters,
        after=after_id(page),
        limit=page.limit + 1,
    )
    return id_page(rows, page.limit)


# --- changing ------------------------------------------------------------------------------


def _merge(offer: Offer, changes: Mapping[str, Any]) -> OfferFields:
    """The stored terms with ``changes`` applied, checked by every rule of a new offer."""
    try:
        return OfferFields.model_validate(_stored_fields(offer) | dict(changes))
    except ValidationError as exc:
        raise validation_problem(exc) from exc


async def update_offer(
    session: AsyncSession, offer_id: uuid.UUID, *, data: OfferUpdate, principal: Principal
) -> Offer:
    """Change an offer's terms.

    A draft may change every field; a published offer only places, requirements,
    visibility and auto_confirm, and never to fewer places than its bookings hold (decided
    in the UPDATE itself). Closed and withdrawn offers are history. A published offer's
    change is announced with ``offer.updated``.

    Raises:
        ProblemError: 404 ``offer_not_found``/``unit_not_found``; 403 ``not_owner``; 409
            ``offer_not_editable``, ``offer_field_not_editable``, ``places_below_booked``;
            422 when the merged terms break a rule.
    """
    offer = await _load_managed(session, offer_id, principal)
    if offer.status not in transitions.EDITABLE_STATUSES:
        raise errors.offer_not_editable(offer.status)
    stored = _stored_fields(offer)
    changes = {k: v for k, v in data.changes().items() if v != stored[k]}
    if not changes:
        return offer
    locked = set(changes) - PUBLISHED_EDITABLE
    if offer.status == "published" and locked:
        raise errors.offer_field_not_editable(locked)
    merged = _merge(offer, changes)
    values = {k: v for k, v in _storage(merged).items() if k in changes}
    if "unit_id" in changes:
        unit = await _managed_unit(session, merged.unit_id, principal)
        values |= location_of(unit) | {"provider_id": unit.provider_id}
    places = merged.places if "places" in changes else None
    changed = await repository.change(
        session,
        offer_id,
        {**values, "updated_at": utcnow()},
        expected_status=(offer.status,),
        places=places,
    )
    if not changed:
        booked = offer.held_places + offer.confirmed_places
        raise errors.places_below_booked(merged.places, booked)
    row = await _reload(session, offer_id)
    if row.status == "published":
        await emit_offer_event(session, OFFER_UPDATED, row)
    return row


async def publish(session: AsyncSession, offer_id: uuid.UUID, *, principal: Principal) -> Offer:
    """draft → published; emits ``offer.published``."""
    offer = await _load_managed(session, offer_id, principal)
    return await transitions.apply(session, offer, transitions.PUBLISH)


async def close(session: AsyncSession, offer_id: uuid.UUID, *, principal: Principal) -> Offer:
    """published → closed (no new bookings; existing ones stand); emits ``offer.closed``."""
    offer = await _load_managed(session, offer_id, principal)
    return await transitions.apply(session, offer, transitions.CLOSE)


async def withdraw(
    session: AsyncSession, offer_id: uuid.UUID, *, reason: str | None, principal: Principal
) -> Offer:
    """draft, published or closed → withdrawn; open bookings are cancelled with it.

    Raises:
        ProblemError: 404/403 as for every change; 409 ``invalid_offer_transition`` or
            ``placements_in_progress``.
    """
    offer = await _load_managed(session, offer_id, principal)
    return await withdrawal.withdraw(session, offer, reason=reason)


async def refresh_unit_copies(
    session: AsyncSession, unit_id: uuid.UUID, location: Mapping[str, Any]
) -> None:
    """Copy a changed unit's location and flags onto its offers; announce published ones."""
    published = await repository.refresh_unit_copies(
        session,
        unit_id,
        {**location, "updated_at": utcnow()},
        announced=transitions.ANNOUNCED_STATUSES,
    )
    for row in await repository.get_many(session, published):
        await emit_offer_event(session, OFFER_UPDATED, row)
