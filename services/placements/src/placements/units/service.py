"""Rules of care units: who manages them, what is derived, and what follows a change.

Units are public facts (every authenticated role may read them); only the owning provider
organisation or an admin changes one. County and healthcare region are derived from the
municipality and stored, and every offer carries a copy of the unit's location and flags
for the portal search, refreshed in the same transaction as the unit's change.
"""

from __future__ import annotations

import json
import uuid
from typing import Any, Final

from pydantic import ValidationError
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from vfu_common.errors import validation_problem
from vfu_common.events.contracts import UNIT_CHANGED, UNIT_REGISTERED
from vfu_common.pagination import PageParams, after_id, id_page
from vfu_common.principal import Principal
from vfu_common.rows import values_of
from vfu_common.utc import utcnow
from vfu_common.uuid7 import new_id
from vfu_domain.reference import healthcare_region_for_municipality, municipalities

from placements.offers import service as offers_service
from placements.offers.service import LOCATION_COLUMNS, location_of
from placements.units import errors, repository
from placements.units.access import require_manager
from placements.units.events import emit_unit_event
from placements.units.models import Unit
from placements.units.schemas import UnitCreate, UnitFields, UnitOut, UnitUpdate

_FIELDS: Final = tuple(UnitFields.model_fields)


def to_out(unit: Unit) -> UnitOut:
    """The API view of a stored unit."""
    return UnitOut.model_validate(
        {**values_of(unit), "special_requirements": json.loads(unit.special_requirements)}
    )


def _storage(fields: UnitFields) -> dict[str, Any]:
    """Column values for validated unit fields, with the derived county and region."""
    values = fields.model_dump(include=set(_FIELDS))
    values["special_requirements"] = json.dumps(values["special_requirements"])
    code = fields.municipality_code
    values["county_code"] = municipalities()[code].lan_code
    values["healthcare_region"] = healthcare_region_for_municipality(code)
    return values


def _stored_fields(unit: Unit) -> dict[str, Any]:
    values = {name: getattr(unit, name) for name in _FIELDS}
    values["special_requirements"] = json.loads(unit.special_requirements)
    return values


# --- access --------------------------------------------------------------------------------


def _owner_of_new_unit(principal: Principal, requested: uuid.UUID | None) -> uuid.UUID:
    """Providers create units for their own organisation; an admin names the provider."""
    own = principal.organisation_id if principal.has_role("provider") else None
    if principal.has_role("admin"):
        owner = requested or own
        if owner is None:
            raise errors.provider_id_required()
        return owner
    if own is None:
        raise errors.no_organisation()
    if requested is not None and requested != own:
        raise errors.not_owner("that provider's units")
    return own


async def load(session: AsyncSession, unit_id: uuid.UUID, *, for_update: bool = False) -> Unit:
    """A unit, or 404 ``unit_not_found``."""
    unit = await repository.get(session, unit_id, for_update=for_update)
    if unit is None:
        raise errors.unit_not_found(unit_id)
    return unit


# --- use cases -----------------------------------------------------------------------------


async def _refuse_taken_hsa_id(
    session: AsyncSession, hsa_id: str | None, *, unit_id: uuid.UUID | None = None
) -> None:
    if hsa_id is not None and await repository.hsa_id_used_by_other(
        session, hsa_id, unit_id=unit_id
    ):
        raise errors.hsa_id_taken(hsa_id)


async def create_unit(session: AsyncSession, *, data: UnitCreate, principal: Principal) -> Unit:
    """Store a new unit for the caller's organisation (or the admin's ``provider_id``).

    Raises:
        ProblemError: 403 ``not_owner`` for a provider naming another provider; 422
            ``provider_id_required`` for an admin naming none; 409 ``hsa_id_taken``.
    """
    provider_id = _owner_of_new_unit(principal, data.provider_id)
    await _refuse_taken_hsa_id(session, data.hsa_id)
    now = utcnow()
    unit_id = new_id()
    values = _storage(data)
    try:
        await repository.add(
            session,
            {
                **values,
                "id": unit_id,
                "provider_id": provider_id,
                "version": 1,
                "created_at": now,
                "updated_at": now,
            },
        )
    except IntegrityError as exc:  # a concurrent request took the HSA-id after our check
        raise errors.hsa_id_taken(data.hsa_id or "") from exc
    unit = await load(session, unit_id)
    await emit_unit_event(session, UNIT_REGISTERED, unit)
    return unit


async def get_unit(session: AsyncSession, unit_id: uuid.UUID) -> Unit:
    """One unit (every authenticated caller may read units)."""
    return await load(session, unit_id)


async def list_units(
    session: AsyncSession, *, provider_id: uuid.UUID | None, page: PageParams
) -> tuple[list[Unit], str | None]:
    """A page of units, optionally one provider's, in creation order."""
    rows = await repository.page(
        session, provider_id=provider_id, after=after_id(page), limit=page.limit + 1
    )
    return id_page(rows, page.limit)


async def update_unit(
    session: AsyncSession, unit_id: uuid.UUID, *, data: UnitUpdate, principal: Principal
) -> Unit:
    """Change a unit; its offers' copies follow in the same transaction.

    The update is merged into the stored unit and the result validated as a whole, so a
    latitude cleared without its longitude is refused like on creation. A change of
    location or flags refreshes every offer of the unit and announces the published ones
    (``offer.updated``).

    Raises:
        ProblemError: 404 ``unit_not_found``; 403 ``not_owner``; 409 ``hsa_id_taken``;
            422 for a merged state that breaks a rule.
    """
    unit = await load(session, unit_id, for_update=True)
    require_manager(principal, unit)
    try:
        merged = UnitFields.model_validate(_stored_fields(unit) | data.changes())
    except ValidationError as exc:
        raise validation_problem(exc) from exc
    values = {k: v for k, v in _storage(merged).items() if v != getattr(unit, k)}
    if not values:
        return unit
    if "hsa_id" in values:
        await _refuse_taken_hsa_id(session, merged.hsa_id, unit_id=unit_id)
    try:
        await repository.change(session, unit_id, {**values, "updated_at": utcnow()})
    except IntegrityError as exc:
        raise errors.hsa_id_taken(merged.hsa_id or "") from exc
    unit = await load(session, unit_id)
    await emit_unit_event(session, UNIT_CHANGED, unit)
    if any(column in values for column in LOCATION_COLUMNS):
        await offers_service.refresh_unit_copies(session, unit_id, location_of(unit))
    return unit
