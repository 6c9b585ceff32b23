"""Allocation runs: the coordinator previews the round's allocation from a stored
snapshot, then publishes it as confirmed bookings in one transaction, or nothing.

Through the real app over HTTP, on SQLite and PostgreSQL; the calendar is pinned.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from placements.allocation import transitions
from placements.allocation.models import allocation_runs
from placements.bookings.models import bookings
from placements.calendar import CALENDAR
from sqlalchemy import insert, select
from vfu_common.events.contracts import QuotaV1
from vfu_common.utc import utcnow

from services.placements.tests.booking_kit import (
    END,
    START,
    book,
    events,
    insert_offer,
    insert_unit,
    offer_counts,
    problem_code,
)
from services.placements.tests.conftest import (
    OTHER_PROVIDER,
    OTHER_UNIVERSITY,
    OTHER_UNIVERSITY_ID,
    PROVIDER,
    UNIVERSITY,
    UNIVERSITY_ID,
    AgreementPartyV1,
    RunningService,
    agreement_terms,
    project_agreement,
)
from services.placements.tests.rounds_kit import (
    COORDINATOR,
    GATES,
    OPENED_ON,
    ROUNDS,
    STOCKHOLM_COORDINATOR,
    day,
    open_round,
    project_coordinators,
)

ALLOCATION_DAY = day(GATES["offers_due"], 1)
LINE: dict[str, Any] = {
    "profession_code": "sjukskoterska",
    "programme_code": "sjukskoterskeprogrammet",
    "course_code": "3SJ201",
    "course_instance": "HT27-1",
    "start_date": START.isoformat(),
    "end_date": END.isoformat(),
    "students": 8,
}


@pytest.fixture(autouse=True)
def pinned_calendar() -> Iterator[None]:
    CALENDAR.set(OPENED_ON)
    yield
    CALENDAR.set(None)


class Round:
    """A round of Region Uppsala over 0380 with one 10-place nursing offer, agreements
    for both universities, and a line of each (UNIVERSITY first tier, the other second)."""

    def __init__(self, service: RunningService) -> None:
        self.service = service
        self.path = ""
        self.offer_id = uuid.UUID(int=0)
        self.lines: dict[uuid.UUID, str] = {}

    async def open(self, *, quotas: list[QuotaV1] | None = None, students: int = 8) -> Round:
        db = self.service.db
        await project_coordinators(db)
        await project_agreement(db, agreement_terms(quotas=quotas or []))
        await project_agreement(
            db,
            agreement_terms(
                parties=[
                    AgreementPartyV1(organisation_id=OTHER_UNIVERSITY_ID, role="university"),
                    AgreementPartyV1(organisation_id=PROVIDER.organisation_id, role="region"),
                ]
            ),
        )
        self.offer_id = await insert_offer(db, await insert_unit(db))
        self.path = f"{ROUNDS}/{(await open_round(self.service))['id']}"
        for actor in (UNIVERSITY, OTHER_UNIVERSITY):
            made = await self.service.call(
                actor, "POST", f"{self.path}/demand", json=LINE | {"students": students}
            )
            assert made.status_code == 201, made.text
            self.lines[actor.organisation_id] = made.json()["id"]  # type: ignore[index]
        CALENDAR.set(ALLOCATION_DAY)
        return self

    async def preview(self, actor: Any = COORDINATOR) -> Any:
        return await self.service.call(actor, "POST", f"{self.path}/allocations")

    async def publish(self, run_id: str, actor: Any = COORDINATOR) -> Any:
        return await self.service.call(actor, "POST", f"{self.path}/allocations/{run_id}/publish")


async def round_bookings(service: RunningService) -> list[dict[str, Any]]:
    async with service.db.read() as session:
        rows = await session.execute(
            select(bookings).where(bookings.c.round_id.is_not(None)).order_by(bookings.c.id)
        )
        return [dict(row) for row in rows.mappings()]


async def test_a_preview_is_published_as_confirmed_bookings_of_the_round(
    placements_service: RunningService,
) -> None:
    round_ = await Round(placements_service).open()
    preview = await round_.preview()
    assert preview.status_code == 201, preview.text
    run = preview.json()
    assert run["status"] == "preview"
    got = {p["demand_line_id"]: p["places"] for p in run["places"]}
    # The first tier is served whole; the second gets what is left of the 10 places.
    assert got == {round_.lines[UNIVERSITY_ID]: 8, round_.lines[OTHER_UNIVERSITY_ID]: 2}
    fill = {(f["tier"], f["university_id"]): f["fill_ratio"] for f in run["report"]["fill"]}
    assert fill == {
        ("own and contracted", str(UNIVERSITY_ID)): 1.0,
        ("others", str(OTHER_UNIVERSITY_ID)): 0.25,
    }
    assert run["report"]["solver"]["status"] == "Optimal"
    # Jain's index over the fill ratios 1.0 and 0.25 of the two tiers' universities, each
    # alone in its tier: 1 per tier. Unmet: 6 nursing places, anywhere.
    assert run["report"]["jain_index"] == {"own and contracted": 1.0, "others": 1.0}
    assert run["report"]["unmet_demand"] == [
        {
            "profession_code": "sjukskoterska",
            "programme_code": "sjukskoterskeprogrammet",
            "counties": "any",
            "places": 6,
        }
    ]
    assert await round_bookings(placements_service) == []  # a preview books nothing

    published = await round_.publish(run["id"])
    assert published.status_code == 200, published.text
    assert published.json()["status"] == "published"
    made = await round_bookings(placements_service)
    assert sorted((b["university_id"], b["confirmed_places"], b["status"]) for b in made) == sorted(
        [(UNIVERSITY_ID, 8, "confirmed"), (OTHER_UNIVERSITY_ID, 2, "confirmed")]
    )
    assert {b["round_id"] for b in made} == {uuid.UUID(round_.path.rsplit("/", 1)[1])}
    assert await offer_counts(placements_service.db, round_.offer_id) == (10, 0, 10)
    announced = await events(placements_service.db, type_suffix="allocation.published.v1")
    assert [e.data["places"] for e in announced] == [10]
    confirmed = await events(placements_service.db, type_suffix="booking.confirmed.v1")
    assert {e.data["round_id"] for e in confirmed} == {round_.path.rsplit("/", 1)[1]}

    # Publishing again changes nothing; the stored input recomputes to the same bytes.
    again = await round_.publish(run["id"])
    assert again.status_code == 200
    assert len(await round_bookings(placements_service)) == 2
    check = await placements_service.call(
        COORDINATOR, "POST", f"{round_.path}/allocations/{run['id']}/check"
    )
    assert check.status_code == 200, check.text
    assert check.json()["identical"] is True


async def test_each_university_reads_only_its_own_lines(
    placements_service: RunningService,
) -> None:
    round_ = await Round(placements_service).open()
    run_id = (await round_.preview()).json()["id"]
    run_path = f"{round_.path}/allocations/{run_id}"

    as_other = (await placements_service.call(OTHER_UNIVERSITY, "GET", run_path)).json()
    assert [p["demand_line_id"] for p in as_other["places"]] == [round_.lines[OTHER_UNIVERSITY_ID]]
    assert as_other["report"] is None  # the report is the coordinator's
    # The provider sees the places on its own offer, every university's.
    as_provider = (await placements_service.call(PROVIDER, "GET", run_path)).json()
    assert sorted(p["places"] for p in as_provider["places"]) == [2, 8]
    assert as_provider["report"] is None
    assert (await placements_service.call(OTHER_PROVIDER, "GET", run_path)).json()["places"] == []
    explained = await placements_service.call(OTHER_UNIVERSITY, "GET", f"{run_path}/explanations")
    assert explained.status_code == 200, explained.text
    [mine] = explained.json()
    assert mine["reason"] == "fair_share"
    assert mine["allocated"] == 2
    assert "2 of 8" in mine["explanation"]
    theirs = round_.lines[UNIVERSITY_ID]
    hidden = await placements_service.call(
        OTHER_UNIVERSITY, "GET", f"{run_path}/explanations/{theirs}"
    )
    assert hidden.status_code == 404
    assert problem_code(hidden) == "demand_line_not_found"
    every = await placements_service.call(COORDINATOR, "GET", f"{run_path}/explanations")
    assert {e["line_id"] for e in every.json()} == set(round_.lines.values())


async def test_a_ceiling_quota_caps_the_allocation_and_is_explained(
    placements_service: RunningService,
) -> None:
    ceiling = QuotaV1(
        university_organisation_id=UNIVERSITY_ID,
        programme_code="sjukskoterskeprogrammet",
        term="2027-HT",
        unit="places",
        amount=3,
        kind="ceiling",
    )
    round_ = await Round(placements_service).open(quotas=[ceiling])
    run = (await round_.preview()).json()
    got = {p["demand_line_id"]: p["places"] for p in run["places"]}
    # Capped at 3, the first tier leaves 7 places to the second tier (it asked for 8).
    assert got == {round_.lines[UNIVERSITY_ID]: 3, round_.lines[OTHER_UNIVERSITY_ID]: 7}
    line = round_.lines[UNIVERSITY_ID]
    explained = await placements_service.call(
        UNIVERSITY, "GET", f"{round_.path}/allocations/{run['id']}/explanations/{line}"
    )
    assert explained.json()["reason"] == "quota_ceiling"
    assert (await round_.publish(run["id"])).status_code == 200


async def test_a_changed_input_makes_the_preview_stale_and_nothing_is_written(
    placements_service: RunningService,
) -> None:
    round_ = await Round(placements_service).open()
    run_id = (await round_.preview()).json()["id"]
    # Meanwhile a university books 2 of the offer's places outside the round.
    assert (
        await book(placements_service, UNIVERSITY, round_.offer_id, places=2)
    ).status_code == 201

    refused = await round_.publish(run_id)
    assert refused.status_code == 409
    assert problem_code(refused) == "allocation_stale"
    assert refused.json()["changes"] == {"offers": {"changed": [str(round_.offer_id)]}}
    assert await round_bookings(placements_service) == []
    assert await offer_counts(placements_service.db, round_.offer_id) == (10, 2, 0)
    # A fresh preview of the changed round publishes.
    fresh = (await round_.preview()).json()
    assert sum(p["places"] for p in fresh["places"]) == 8
    assert (await round_.publish(fresh["id"])).status_code == 200
    # ... and then no other run of the round can be published.
    assert problem_code(await round_.publish(run_id)) == "allocation_already_published"


async def test_allocation_runs_between_the_dues_and_allocation_day(
    placements_service: RunningService,
) -> None:
    round_ = await Round(placements_service).open()
    CALENDAR.set(day(GATES["offers_due"]))
    early = await round_.preview()
    assert early.status_code == 409
    assert problem_code(early) == "allocation_not_open"
    assert early.json()["gate"] == "offers_due"
    CALENDAR.set(day(GATES["allocation"]))
    run_id = (await round_.preview()).json()["id"]
    CALENDAR.set(day(GATES["allocation"], 1))
    for late in (await round_.preview(), await round_.publish(run_id)):
        assert late.status_code == 409
        assert problem_code(late) == "round_gate_closed"


async def test_only_the_rounds_coordinator_runs_and_publishes(
    placements_service: RunningService,
) -> None:
    round_ = await Round(placements_service).open()
    for actor in (STOCKHOLM_COORDINATOR, PROVIDER):
        refused = await round_.preview(actor)
        assert refused.status_code == 403, refused.text
    university = await round_.preview(UNIVERSITY)
    assert university.status_code == 403
    run_id = (await round_.preview()).json()["id"]
    assert (await round_.publish(run_id, STOCKHOLM_COORDINATOR)).status_code == 403
    assert await round_bookings(placements_service) == []


async def _running_run(service: RunningService, round_path: str, *, deadline_in: int) -> uuid.UUID:
    """A run left running (as by a process still solving, or one that died)."""
    round_id = uuid.UUID(round_path.rsplit("/", 1)[1])
    run_id = uuid.uuid4()
    now = utcnow()
    values = transitions.started(
        {
            "id": run_id,
            "round_id": round_id,
            "policy_version": 1,
            "seed": 0,
            "input_digest": "0" * 64,
            "input_snapshot": json.dumps({"lines": [], "offers": [], "pairs": []}),
            "started_by": "test",
            "started_at": now,
            "deadline_at": now + timedelta(minutes=deadline_in),
        }
    )
    async with service.db.write() as session:
        await session.execute(insert(allocation_runs), values)
    return run_id


async def test_one_run_of_a_round_at_a_time(placements_service: RunningService) -> None:
    round_ = await Round(placements_service).open()
    await _running_run(placements_service, round_.path, deadline_in=10)
    refused = await round_.preview()
    assert refused.status_code == 409
    assert problem_code(refused) == "allocation_in_progress"


async def test_a_run_past_its_deadline_is_failed_and_does_not_block(
    placements_service: RunningService,
) -> None:
    round_ = await Round(placements_service).open()
    dead = await _running_run(placements_service, round_.path, deadline_in=-1)
    assert (await round_.preview()).status_code == 201
    listed = await placements_service.call(COORDINATOR, "GET", f"{round_.path}/allocations")
    status = {r["id"]: (r["status"], r["error"]) for r in listed.json()["items"]}
    assert status[str(dead)][0] == "failed"
    assert "deadline" in status[str(dead)][1]


@pytest.mark.stress
async def test_concurrent_runs_never_overlap(placements_service: RunningService) -> None:
    round_ = await Round(placements_service).open()
    answers = await asyncio.gather(*(round_.preview() for _ in range(8)))
    codes = sorted(
        (a.status_code, a.json().get("code") if a.status_code == 409 else a.json()["status"])
        for a in answers
    )
    # Each press computes a preview or is told another run is computing; never an error,
    # and the previews are of one input, so they agree.
    assert {c for c in codes} <= {(201, "preview"), (409, "allocation_in_progress")}
    previews = [a.json() for a in answers if a.status_code == 201]
    assert previews
    assert len({json.dumps(p["places"], sort_keys=True) for p in previews}) == 1
    async with placements_service.db.read() as session:
        running = await session.execute(
            select(allocation_runs.c.id).where(allocation_runs.c.status == "running")
        )
        assert running.all() == []
