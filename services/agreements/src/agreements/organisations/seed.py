"""Organisations from the bundled reference data: regions, municipalities, universities.

Every reference organisation is registered through :func:`service.register_organisation`,
the same rules and the same ``organisation.registered`` event as a registration over
the API, so the other services learn of them like of any other. Ids are deterministic
(:func:`vfu_domain.reference.organisation_id_for_number`), and numbers already
registered are skipped, so seeding is idempotent and can run after every migration.

Names: regions and universities keep their reference names; a municipality is named
"<name> kommun" (the reference data holds the bare name, e.g. "Halmstad"), unless the name
already ends with the word "kommun" or "stad" ("Göteborgs stad" stays as it is).

One number appears twice in the data: Region Gotland is the municipality of Gotland
(2120000803) with regional responsibility. It is registered once, as the region (regions
come first), and the municipality entry is skipped with a log line, so a fresh database
holds 21 regions and 289 municipalities.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator

from sqlalchemy.ext.asyncio import AsyncSession
from vfu_common.db import Database
from vfu_domain.reference import (
    counties,
    municipalities,
    organisation_id_for_number,
    universities,
)

from agreements.organisations import repository, service
from agreements.organisations.schemas import OrganisationCreate

_log = logging.getLogger(__name__)


def municipality_name(name: str) -> str:
    """The organisation name of a municipality: ``"Halmstad"`` → ``"Halmstad kommun"``."""
    if name.rsplit(" ", 1)[-1] in {"kommun", "stad"}:
        return name
    return f"{name} kommun"


def reference_organisations() -> Iterator[OrganisationCreate]:
    """Every reference organisation with an organisationsnummer: regions first."""
    for county in counties():
        yield OrganisationCreate(
            organisation_number=county.region_org_number,
            kind="region",
            name=county.region_name,
            county_code=county.lan_code,
        )
    for municipality in municipalities().values():
        yield OrganisationCreate(
            organisation_number=municipality.org_number,
            kind="municipality",
            name=municipality_name(municipality.name),
            municipality_code=municipality.code,
        )
    for university in universities():
        if university.org_number is None:
            _log.info("seed: %s has no organisationsnummer; skipped", university.name)
            continue
        yield OrganisationCreate(
            organisation_number=university.org_number,
            kind="university",
            name=university.name,
            municipality_code=university.kommun_code,
        )


async def seed_reference_organisations(session: AsyncSession) -> int:
    """Register every reference organisation not yet registered, in ``session``'s transaction.

    Returns:
        How many organisations were registered (0 when all were there already).
    """
    registered = await repository.names_by_number(session)
    count = 0
    for data in reference_organisations():
        number = data.organisation_number
        if number in registered:
            if registered[number] != data.name:
                _log.info(
                    "seed: %s has organisationsnummer %s, already registered as %s; skipped",
                    data.name,
                    number,
                    registered[number],
                )
            continue
        await service.register_organisation(
            session, data=data, organisation_id=organisation_id_for_number(number)
        )
        registered[number] = data.name
        count += 1
    return count


async def _seed(database_url: str) -> int:
    db = Database(database_url)
    try:
        async with db.write() as session:
            return await seed_reference_organisations(session)
    finally:
        await db.dispose()


def seed_after_migrate(database_url: str) -> None:
    """Seed the database at ``database_url`` in one transaction (``serve_main``'s hook)."""
    count = asyncio.run(_seed(database_url))
    # Printed, not only logged: the launcher's migrate step runs before logging is set up.
    print(f"agreements: {count} reference organisations registered")
