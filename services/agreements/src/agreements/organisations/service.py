"""Rules of the organisation aggregate; events are written in the same transaction."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from vfu_common.events.contracts import (
    ORGANISATION_CHANGED,
    ORGANISATION_REGISTERED,
    EventContract,
    OrganisationChangedV1,
    OrganisationRegisteredV1,
)
from vfu_common.messaging.outbox import emit
from vfu_common.pagination import PageParams, encode_cursor, invalid_cursor
from vfu_common.utc import utcnow
from vfu_common.uuid7 import new_id
from vfu_domain.reference import HEALTHCARE_REGIONS, municipalities

from agreements.organisations import errors, repository
from agreements.organisations.models import Organisation, OrganisationHealthcareRegion
from agreements.organisations.schemas import (
    OrganisationChange,
    OrganisationCreate,
    OrganisationFilter,
)

SOURCE = "/vfu/agreements"


@dataclass(frozen=True)
class Location:
    """Where an organisation is: its municipality, county and healthcare regions."""

    municipality_code: str | None
    county_code: str | None
    healthcare_regions: tuple[str, ...]


def regions_of_county(county_code: str) -> tuple[str, ...]:
    """The healthcare regions of every municipality in a county (two for Halland)."""
    found = {m.healthcare_region for m in municipalities().values() if m.lan_code == county_code}
    return tuple(region for region in HEALTHCARE_REGIONS if region in found)


def locate(kind: str, *, municipality_code: str | None, county_code: str | None) -> Location:
    """Derive county and healthcare regions, and check they fit the kind.

    With a municipality, the county is the municipality's and the region is that
    municipality's alone: the region is never derived from the county when a municipality
    is known, because Halland is split between Södra and Västra. Without one, an
    organisation with a county (a region, typically) covers every region of the county.

    Raises:
        ProblemError: 422 ``municipality_code_required``, ``county_required`` or
            ``county_mismatch``.
    """
    if municipality_code is not None:
        municipality = municipalities()[municipality_code]
        if county_code is not None and county_code != municipality.lan_code:
            raise errors.county_mismatch(county_code, municipality_code)
        return Location(municipality_code, municipality.lan_code, (municipality.healthcare_region,))
    if kind == "municipality":
        raise errors.municipality_code_required()
    if county_code is not None:
        return Location(None, county_code, regions_of_county(county_code))
    if kind == "region":
        raise errors.county_required()
    return Location(None, None, ())


def _set_location(organisation: Organisation, location: Location) -> None:
    organisation.municipality_code = location.municipality_code
    organisation.county_code = location.county_code
    wanted = set(location.healthcare_regions)
    # Keep the rows that stay: replacing them all would delete and insert the same key.
    kept = [row for row in organisation.region_rows if row.healthcare_region in wanted]
    present = {row.healthcare_region for row in kept}
    added = [
        OrganisationHealthcareRegion(healthcare_region=region)
        for region in location.healthcare_regions
        if region not in present
    ]
    organisation.region_rows = kept + added


async def _emit_state(
    session: AsyncSession,
    contract: EventContract,
    payload_type: type[OrganisationRegisteredV1],
    organisation: Organisation,
) -> None:
    """Emit the organisation's full state, so a consumer never needs to ask for more."""
    payload = payload_type(
        organisation_id=organisation.id,
        organisation_number=organisation.organisation_number,
        kind=organisation.kind,
        name=organisation.name,
        municipality_code=organisation.municipality_code,
        county_code=organisation.county_code,
        hsa_id=organisation.hsa_id,
        healthcare_regions=organisation.healthcare_regions,
    )
    await emit(
        session,
        contract,
        payload,
        source=SOURCE,
        aggregate_id=organisation.id,
        aggregate_version=organisation.version,
    )


async def register_organisation(
    session: AsyncSession,
    *,
    data: OrganisationCreate,
    organisation_id: uuid.UUID | None = None,
) -> Organisation:
    """Register an organisation and emit ``organisation.registered``.

    Args:
        session: The write transaction.
        data: The validated request.
        organisation_id: A fixed id (reference data seeding); a new UUIDv7 by default.

    Raises:
        ProblemError: 409 ``organisation_exists`` if the number is already registered;
            422 from :func:`locate`.
    """
    location = locate(
        data.kind, municipality_code=data.municipality_code, county_code=data.county_code
    )
    existing = await repository.find_by_number(session, data.organisation_number)
    if existing is not None:
        raise errors.organisation_exists(data.organisation_number, existing.id)
    now = utcnow()
    organisation = Organisation(
        id=organisation_id or new_id(),
        organisation_number=data.organisation_number,
        kind=data.kind,
        name=data.name,
        name_folded=data.name.casefold(),
        hsa_id=data.hsa_id,
        version=1,
        created_at=now,
        updated_at=now,
        region_rows=[],
    )
    _set_location(organisation, location)
    try:
        # A savepoint, so a lost race leaves the transaction usable to name the winner.
        async with session.begin_nested():
            session.add(organisation)
    except IntegrityError as exc:
        winner = await repository.find_by_number(session, data.organisation_number)
        if winner is None:
            raise
        raise errors.organisation_exists(data.organisation_number, winner.id) from exc
    await _emit_state(session, ORGANISATION_REGISTERED, OrganisationRegisteredV1, organisation)
    return organisation


def _current_location(organisation: Organisation) -> Location:
    return Location(
        organisation.municipality_code,
        organisation.county_code,
        tuple(organisation.healthcare_regions),
    )


def _location_after(organisation: Organisation, data: OrganisationChange) -> Location:
    if "municipality_code" not in data.model_fields_set:
        return _current_location(organisation)
    # A new municipality brings its own county; clearing it keeps the county it implied.
    county = organisation.county_code if data.municipality_code is None else None
    return locate(organisation.kind, municipality_code=data.municipality_code, county_code=county)


async def change_organisation(
    session: AsyncSession, organisation_id: uuid.UUID, *, data: OrganisationChange
) -> Organisation:
    """Apply the fields present in ``data``; emit ``organisation.changed`` if anything changed.

    A request that changes nothing keeps the version and emits nothing, so retrying a
    change is harmless.

    Raises:
        ProblemError: 404 ``organisation_not_found``; 422 from :func:`locate`.
    """
    # Locked: two concurrent changes must not both become version n+1 (PostgreSQL; SQLite
    # writes are serialised by BEGIN IMMEDIATE).
    organisation = await repository.get(session, organisation_id, for_update=True)
    if organisation is None:
        raise errors.organisation_not_found(organisation_id)
    fields = data.model_fields_set
    name = data.name if data.name is not None else organisation.name
    hsa_id = data.hsa_id if "hsa_id" in fields else organisation.hsa_id
    location = _location_after(organisation, data)
    if (name, hsa_id, location) == (
        organisation.name,
        organisation.hsa_id,
        _current_location(organisation),
    ):
        return organisation
    organisation.name = name
    organisation.name_folded = name.casefold()
    organisation.hsa_id = hsa_id
    _set_location(organisation, location)
    organisation.version += 1
    organisation.updated_at = utcnow()
    await session.flush()
    await _emit_state(session, ORGANISATION_CHANGED, OrganisationChangedV1, organisation)
    return organisation


async def get_organisation(session: AsyncSession, organisation_id: uuid.UUID) -> Organisation:
    """One organisation, or a 404 problem."""
    organisation = await repository.get(session, organisation_id)
    if organisation is None:
        raise errors.organisation_not_found(organisation_id)
    return organisation


def _keyset(page: PageParams) -> tuple[str, uuid.UUID] | None:
    if page.cursor is None:
        return None
    try:
        return str(page.cursor["name"]), uuid.UUID(str(page.cursor["id"]))
    except (KeyError, ValueError) as exc:
        raise invalid_cursor() from exc


async def search_organisations(
    session: AsyncSession, criteria: OrganisationFilter, *, page: PageParams
) -> tuple[Sequence[Organisation], str | None]:
    """One page of organisations matching ``criteria``, ordered by name, then id.

    Returns:
        The page's organisations and the cursor of the next page (None on the last).
    """
    # One row more than asked tells whether another page follows without a count query.
    rows = await repository.search(session, criteria, after=_keyset(page), limit=page.limit + 1)
    items = rows[: page.limit]
    if len(rows) <= page.limit:
        return items, None
    last = items[-1]
    return items, encode_cursor({"name": last.name, "id": str(last.id)})
