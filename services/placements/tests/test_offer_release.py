"""Release dates: on its ``release_on`` day an offer's free places open to every
university (a partners-only offer becomes visible to all), announced once by
``offer.released``. Through the real app and the lifecycle scheduler, on SQLite and
PostgreSQL.
"""

from __future__ import annotations

import uuid
from datetime import date, timedelta

from placements.bookings.scheduler import LifecycleScheduler

from services.placements.tests.conftest import (
    OTHER_UNIVERSITY,
    PROVIDER,
    RunningService,
)
from services.placements.tests.test_offers import events, new_offer, new_unit

RELEASE = date(2027, 8, 16)
RELEASED = "vfu.placements.offer.released.v1"


async def test_free_places_open_to_every_university_on_the_release_date(
    placements_service: RunningService,
) -> None:
    unit_id = await new_unit(placements_service)
    offer = await new_offer(
        placements_service,
        unit_id,
        publish=True,
        visibility="partners",
        release_on=RELEASE.isoformat(),
    )
    path = f"/offers/{offer['id']}"
    # Without an agreement with the provider, the other university does not see it yet.
    assert (await placements_service.call(OTHER_UNIVERSITY, "GET", path)).status_code == 404
    scheduler = LifecycleScheduler(placements_service.db)

    assert (await scheduler.tick(RELEASE - timedelta(days=1))).released == []
    assert (await scheduler.tick(RELEASE)).released == [uuid.UUID(offer["id"])]
    assert (await scheduler.tick(RELEASE + timedelta(days=1))).released == []  # once

    seen = await placements_service.call(OTHER_UNIVERSITY, "GET", path)
    assert seen.status_code == 200, seen.text
    assert seen.json()["visibility"] == "all"
    assert seen.json()["released_at"] is not None
    released = [e for e in await events(placements_service) if e.type == RELEASED]
    assert [(e.data["visibility"], e.data["release_on"]) for e in released] == [
        ("all", RELEASE.isoformat())
    ]
    assert released[0].aggregateversion == seen.json()["version"]


async def test_a_published_offer_may_move_its_release_date_but_not_past_the_start(
    placements_service: RunningService,
) -> None:
    unit_id = await new_unit(placements_service)
    offer = await new_offer(placements_service, unit_id, publish=True)
    path = f"/offers/{offer['id']}"
    moved = await placements_service.call(
        PROVIDER, "PATCH", path, json={"release_on": RELEASE.isoformat()}
    )
    assert moved.status_code == 200, moved.text
    assert moved.json()["release_on"] == RELEASE.isoformat()
    late = await placements_service.call(PROVIDER, "PATCH", path, json={"release_on": "2027-09-07"})
    assert late.status_code == 422
    assert late.json()["errors"][0]["type"] == "release_after_start"
    cleared = await placements_service.call(PROVIDER, "PATCH", path, json={"release_on": None})
    assert cleared.json()["release_on"] is None
    # Without a release date nothing is ever released.
    assert (await LifecycleScheduler(placements_service.db).tick(date(2027, 9, 6))).released == []
