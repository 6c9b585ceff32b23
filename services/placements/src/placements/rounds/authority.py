"""Who may open and manage a round, and what a round may cover.

A coordinator coordinates the healthcare region its organisation lies in (the region of
the municipality of its seat, as the organisation projection knows it): a round it opens
may cover providers seated, units located and municipalities lying there. A provider
opens rounds for its own capacity only: itself and its own units. An admin opens a round
for a named organisation and may cover anything. The round is then managed by the
organisation that opened it (or an admin). Scope entries are checked against this
service's own read models, never by asking another service.
"""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from vfu_common.principal import Principal
from vfu_domain.organisation_projection import organisations
from vfu_domain.reference import healthcare_region_for_municipality

from placements.rounds import errors
from placements.rounds.models import PlanningRound
from placements.units import repository as units

OPENER_ROLES = ("coordinator", "provider", "admin")


def owner_of_new_round(principal: Principal, requested: uuid.UUID | None) -> uuid.UUID:
    """The coordinating organisation of a round the caller opens."""
    if principal.has_role("admin"):
        owner = requested or principal.organisation_id
        if owner is None:
            raise errors.owner_id_required()
        return owner
    own = principal.organisation_id
    if own is None:
        raise errors.no_organisation()
    if requested is not None and requested != own:
        raise errors.outside_authority("organisation", str(requested))
    return own


async def _seat_region(session: AsyncSession, organisation_id: uuid.UUID) -> str | None:
    row = await session.execute(
        select(organisations.c.municipality_code).where(organisations.c.id == organisation_id)
    )
    code = row.scalar_one_or_none()
    return healthcare_region_for_municipality(code) if code else None


async def check_scope(
    session: AsyncSession, principal: Principal, owner_id: uuid.UUID, entries: list[tuple[str, str]]
) -> None:
    """Refuse an entry that names nothing known (422) or lies outside the caller's
    authority (403 ``outside_round_authority``)."""
    unit_rows = await units.get_many(
        session, [uuid.UUID(ref) for kind, ref in entries if kind == "unit"]
    )
    provider_ids = [uuid.UUID(ref) for kind, ref in entries if kind == "provider"]
    seats = {p: await _seat_region(session, p) for p in provider_ids}
    region = None
    if principal.has_role("coordinator") and not principal.has_role("admin"):
        region = await _seat_region(session, owner_id)
    is_provider = principal.has_role("provider")
    for kind, ref in entries:
        if kind == "unit":
            unit = unit_rows.get(uuid.UUID(ref))
            if unit is None:
                raise errors.unknown_scope(kind, ref)
            in_region = unit.healthcare_region == region
            own = is_provider and unit.provider_id == principal.organisation_id
        elif kind == "provider":
            if seats[uuid.UUID(ref)] is None and uuid.UUID(ref) != principal.organisation_id:
                raise errors.unknown_scope(kind, ref)
            in_region = seats[uuid.UUID(ref)] == region
            own = is_provider and uuid.UUID(ref) == principal.organisation_id
        else:
            in_region = healthcare_region_for_municipality(ref) == region
            own = False
        if principal.has_role("admin") or (region is not None and in_region) or own:
            continue
        raise errors.outside_authority(kind, ref)


def may_manage(principal: Principal, round_: PlanningRound) -> bool:
    """An admin, or the round's own organisation acting as coordinator or provider."""
    if principal.has_role("admin"):
        return True
    return (
        principal.has_role("coordinator", "provider")
        and principal.organisation_id == round_.owner_id
    )


def require_manager(principal: Principal, round_: PlanningRound) -> None:
    """403 ``not_round_owner`` for anyone else (rounds are readable, so 403 tells nothing)."""
    if not may_manage(principal, round_):
        raise errors.not_round_owner(round_.id)
