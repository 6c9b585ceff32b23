"""Rules of the organisation aggregate; events are written in the same transaction."""

from __future__ import annotations

import uuid

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from vfu_common.clock import utcnow
from vfu_common.events.contracts import ORGANISATION_REGISTERED, OrganisationRegisteredV1
from vfu_common.ids import new_id
from vfu_common.messaging.outbox import emit

from agreements.organisations import errors, repository
from agreements.organisations.models import Organisation
from agreements.organisations.schemas import OrganisationCreate

SOURCE = "/vfu/agreements"


async def register_organisation(session: AsyncSession, *, data: OrganisationCreate) -> Organisation:
    """Register an organisation and emit ``organisation.registered``.

    Raises:
        ProblemError: 409 ``organisation_exists`` if the number is already registered.
    """
    existing = await repository.find_by_number(session, data.organisation_number)
    if existing is not None:
        raise errors.organisation_exists(data.organisation_number, existing.id)
    now = utcnow()
    organisation = Organisation(
        id=new_id(),
        organisation_number=data.organisation_number,
        kind=data.kind,
        name=data.name,
        municipality_code=data.municipality_code,
        version=1,
        created_at=now,
        updated_at=now,
    )
    try:
        # A savepoint, so a lost race leaves the transaction usable to name the winner.
        async with session.begin_nested():
            session.add(organisation)
    except IntegrityError as exc:
        winner = await repository.find_by_number(session, data.organisation_number)
        if winner is None:
            raise
        raise errors.organisation_exists(data.organisation_number, winner.id) from exc
    await emit(
        session,
        ORGANISATION_REGISTERED,
        OrganisationRegisteredV1(
            organisation_id=organisation.id,
            organisation_number=organisation.organisation_number,
            kind=data.kind,
            name=organisation.name,
            municipality_code=organisation.municipality_code,
        ),
        source=SOURCE,
        aggregate_id=organisation.id,
        aggregate_version=organisation.version,
    )
    return organisation


async def get_organisation(session: AsyncSession, organisation_id: uuid.UUID) -> Organisation:
    """One organisation, or a 404 problem."""
    organisation = await repository.get(session, organisation_id)
    if organisation is None:
        raise errors.organisation_not_found(organisation_id)
    return organisation
