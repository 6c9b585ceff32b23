"""Projections apply an event only when its aggregate version is newer than the stored one."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from vfu_common.db import Database
from vfu_common.events.contracts import ORGANISATION_REGISTERED, OrganisationRegisteredV1
from vfu_common.messaging.outbox import build_envelope
from vfu_common.uuid7 import new_id
from vfu_domain.organisation_projection import on_organisation_registered, organisations


async def _apply(db: Database, org_id: uuid.UUID, version: int, name: str) -> None:
    payload = OrganisationRegisteredV1(
        organisation_id=org_id,
        organisation_number="2120000019",
        kind="municipality",
        name=name,
        municipality_code="0114",
    )
    envelope = build_envelope(
        ORGANISATION_REGISTERED,
        payload,
        source="/test",
        aggregate_id=org_id,
        aggregate_version=version,
    )
    async with db.write() as session:
        await on_organisation_registered(session, envelope, payload)


async def _stored(db: Database, org_id: uuid.UUID) -> tuple[str, int]:
    async with db.read() as session:
        row = (
            await session.execute(
                select(organisations.c.name, organisations.c.aggregate_version).where(
                    organisations.c.id == org_id
                )
            )
        ).one()
    return row.name, row.aggregate_version


async def test_older_version_after_newer_changes_nothing(db: Database) -> None:
    org_id = new_id()
    await _apply(db, org_id, 2, "second name")
    await _apply(db, org_id, 1, "first name")
    assert await _stored(db, org_id) == ("second name", 2)


async def test_same_version_again_changes_nothing(db: Database) -> None:
    org_id = new_id()
    await _apply(db, org_id, 1, "original")
    await _apply(db, org_id, 1, "replayed with other content")
    assert await _stored(db, org_id) == ("original", 1)


async def test_newer_version_is_applied(db: Database) -> None:
    org_id = new_id()
    await _apply(db, org_id, 1, "old")
    await _apply(db, org_id, 3, "new")
    assert await _stored(db, org_id) == ("new", 3)
