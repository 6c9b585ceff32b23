"""The organisation read model: placements and supervisors keep the same projection.

Both services decide requests about parties (who owns a unit, who employs a supervisor)
from their own copy, built from ``vfu.agreements.organisation.*`` events, never by
calling the agreements service.
"""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel
from sqlalchemy import Column, Integer, String, Table, Uuid, bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession
from vfu_common.db import UtcDateTime, new_metadata, upsert_if_newer
from vfu_common.errors import ProblemError, problem_responses
from vfu_common.events.contracts import (
    ORGANISATION_CHANGED,
    ORGANISATION_REGISTERED,
    OrganisationRegisteredV1,
)
from vfu_common.events.envelope import Envelope
from vfu_common.utc import utcnow
from vfu_common.web.deps import DatabaseDep, PrincipalDep

metadata = new_metadata()


def _columns() -> list[Any]:
    return [
        Column("id", Uuid, primary_key=True),
        Column("organisation_number", String(10), nullable=False, unique=True),
        Column("kind", String(32), nullable=False),
        Column("name", String(200), nullable=False),
        Column("municipality_code", String(4), nullable=True),
        Column("aggregate_version", Integer, nullable=False),
        Column("updated_at", UtcDateTime, nullable=False),
    ]


organisations = Table("organisation_projection", metadata, *_columns())


async def on_organisation_registered(
    session: AsyncSession, envelope: Envelope, payload: OrganisationRegisteredV1
) -> None:
    """Apply a registration or a change; version-guarded, so replays and stale ones do nothing.

    ``organisation.changed`` carries the full state like ``registered`` (its payload is a
    subclass), so one upsert serves both; a change that arrives before its registration
    simply inserts the newer state, and the late registration is then ignored.
    """
    await upsert_if_newer(
        session,
        organisations,
        {
            "id": payload.organisation_id,
            "organisation_number": payload.organisation_number,
            "kind": payload.kind,
            "name": payload.name,
            "municipality_code": payload.municipality_code,
            "aggregate_version": envelope.aggregateversion,
            "updated_at": utcnow(),
        },
        key="id",
    )


HANDLERS = {
    ORGANISATION_REGISTERED.event_type: on_organisation_registered,
    ORGANISATION_CHANGED.event_type: on_organisation_registered,
}


class ProjectedOrganisation(BaseModel):
    """An organisation as this service knows it from events."""

    id: uuid.UUID
    organisation_number: str
    kind: str
    name: str
    municipality_code: str | None
    version: int


def _not_found(organisation_id: uuid.UUID) -> ProblemError:
    return ProblemError(
        404,
        "organisation_not_found",
        "Organisation not found",
        f"No organisation {organisation_id} is known to this service yet.",
    )


def _projected(row: Any) -> ProjectedOrganisation:
    return ProjectedOrganisation(
        id=row.id,
        organisation_number=row.organisation_number,
        kind=row.kind,
        name=row.name,
        municipality_code=row.municipality_code,
        version=row.aggregate_version,
    )


# Built once: the read endpoint binds only the id.
_BY_ID = select(organisations).where(organisations.c.id == bindparam("organisation_id"))


async def get_projected(session: AsyncSession, organisation_id: uuid.UUID) -> ProjectedOrganisation:
    """One projected organisation, or a 404 problem."""
    row = (await session.execute(_BY_ID, {"organisation_id": organisation_id})).one_or_none()
    if row is None:
        raise _not_found(organisation_id)
    return _projected(row)


def projection_router(service: str) -> APIRouter:
    """``GET /api/v1/<service>/organisations/{id}`` over this service's projection."""
    router = APIRouter(prefix=f"/api/v1/{service}/organisations", tags=["organisations"])

    @router.get(
        "/{organisation_id}",
        response_model=ProjectedOrganisation,
        responses=problem_responses(401, 404),
        summary="An organisation as this service's projection holds it",
    )
    async def read_organisation(
        organisation_id: uuid.UUID, db: DatabaseDep, _principal: PrincipalDep
    ) -> ProjectedOrganisation:
        # One key lookup in autocommit, not an ORM session (Database.fetch_row).
        row = await db.fetch_row(_BY_ID, {"organisation_id": organisation_id})
        if row is None:
            raise _not_found(organisation_id)
        return _projected(row)

    return router
