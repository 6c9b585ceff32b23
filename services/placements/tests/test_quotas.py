"""Quotas that hold: bookings count against their agreement's quotas; ceilings refuse.

The agreement's quotas reach the service as the NATS consumer applies them
(``project_agreement`` runs the subscription's chained handlers), bookings go through
the real app over HTTP, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from placements.quotas.models import quota_use
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from vfu_common.db import Database
from vfu_common.events.contracts import QuotaV1

from services.placements.tests.booking_kit import (
    BOOKINGS,
    book,
    insert_offer,
    insert_unit,
    offer_counts,
    problem_code,
)
from services.placements.tests.conftest import (
    API,
    OTHER_UNIVERSITY,
    PORTAL,
    PROVIDER,
    UNIVERSITY,
    UNIVERSITY_ID,
    RunningService,
    agreement_terms,
    project_agreement,
)

NURSING = "sjukskoterskeprogrammet"
TERM = "2027-HT"  # the term of the kit's offers, 8 ISO weeks long


def quota(amount: int, *, kind: str = "ceiling", unit: str = "places", **fields: Any) -> QuotaV1:
    values: dict[str, Any] = {
        "university_organisation_id": UNIVERSITY_ID,
        "programme_code": NURSING,
        "term": TERM,
        "unit": unit,
        "amount": amount,
        "kind": kind,
    }
    return QuotaV1(**(values | fields))


async def quota_rows(db: Database) -> list[dict[str, Any]]:
    async with db.read() as session:
        rows = await session.execute(select(quota_use).order_by(quota_use.c.unit))
        return [dict(row) for row in rows.mappings()]


async def used(db: Database) -> list[int]:
    return [row["used"] for row in await quota_rows(db)]


async def action(service: RunningService, actor: Any, booking_id: str, name: str, **body: Any):
    return await service.call(actor, "POST", f"{BOOKINGS}/{booking_id}/{name}", json=body or None)


async def test_a_ceiling_refuses_past_it_and_names_the_quota(
    placements_service: RunningService,
) -> None:
    db = placements_service.db
    terms = agreement_terms(quotas=[quota(3)])
    await project_agreement(db, terms)
    offer_id = await insert_offer(db, await insert_unit(db))

    first = await book(placements_service, UNIVERSITY, offer_id, places=2)
    assert first.status_code == 201, first.text
    refused = await book(placements_service, UNIVERSITY, offer_id, places=2)
    assert problem_code(refused) == "quota_exceeded"
    assert refused.status_code == 409
    assert refused.json()["quota"] == {
        "agreement_series_id": str(terms.series_id),
        "agreement_id": str(terms.agreement_id),
        "university_id": str(UNIVERSITY_ID),
        "programme_code": NURSING,
        "term": TERM,
        "unit": "places",
        "kind": "ceiling",
        "amount": 3,
        "used": 2,
        "requested": 2,
    }
    assert "3 places" in refused.json()["detail"]
    # The refusal rolled the places back too.
    assert await offer_counts(db, offer_id) == (10, 2, 0)
    assert (await book(placements_service, UNIVERSITY, offer_id, places=1)).status_code == 201
    assert await used(db) == [3]


async def test_releases_give_use_back(placements_service: RunningService) -> None:
    db = placements_service.db
    await project_agreement(db, agreement_terms(quotas=[quota(4)]))
    offer_id = await insert_offer(db, await insert_unit(db))
    a = (await book(placements_service, UNIVERSITY, offer_id, places=2)).json()["id"]
    b = (await book(placements_service, UNIVERSITY, offer_id, places=2)).json()["id"]
    assert await used(db) == [4]

    # Confirming fewer places gives the rest back; declining and cancelling give all.
    confirmed = await action(placements_service, PROVIDER, a, "confirm", places=1)
    assert confirmed.status_code == 200, confirmed.text
    assert await used(db) == [3]
    declined = await action(placements_service, PROVIDER, b, "decline", reason="no_supervisor")
    assert declined.status_code == 200, declined.text
    assert await used(db) == [1]
    cancelled = await action(placements_service, UNIVERSITY, a, "cancel", reason="other")
    assert cancelled.status_code == 200, cancelled.text
    assert await used(db) == [0]
    assert (await book(placements_service, UNIVERSITY, offer_id, places=4)).status_code == 201


async def test_student_weeks_count_places_times_iso_weeks(
    placements_service: RunningService,
) -> None:
    db = placements_service.db
    await project_agreement(
        db, agreement_terms(quotas=[quota(20, unit="student_weeks"), quota(100)])
    )
    offer_id = await insert_offer(db, await insert_unit(db))  # 8 ISO weeks
    assert (await book(placements_service, UNIVERSITY, offer_id, places=2)).status_code == 201
    assert await used(db) == [2, 16]  # places, then student_weeks
    refused = await book(placements_service, UNIVERSITY, offer_id, places=1)
    assert problem_code(refused) == "quota_exceeded"
    assert refused.json()["quota"]["unit"] == "student_weeks"
    assert await used(db) == [2, 16]  # the places quota's count rolled back with it


async def test_a_floor_counts_but_never_refuses(placements_service: RunningService) -> None:
    db = placements_service.db
    await project_agreement(db, agreement_terms(quotas=[quota(1, kind="floor")]))
    offer_id = await insert_offer(db, await insert_unit(db))
    assert (await book(placements_service, UNIVERSITY, offer_id, places=3)).status_code == 201
    assert await used(db) == [3]


async def test_a_profession_quota_covers_offers_of_the_profession(
    placements_service: RunningService,
) -> None:
    db = placements_service.db
    await project_agreement(db, agreement_terms(quotas=[quota(1, programme_code="sjukskoterska")]))
    offer_id = await insert_offer(db, await insert_unit(db))
    assert (await book(placements_service, UNIVERSITY, offer_id)).status_code == 201
    assert problem_code(await book(placements_service, UNIVERSITY, offer_id)) == "quota_exceeded"


async def test_quotas_of_other_terms_and_universities_do_not_apply(
    placements_service: RunningService,
) -> None:
    db = placements_service.db
    await project_agreement(
        db,
        agreement_terms(quotas=[quota(0, term="2027-VT"), quota(0, programme_code="lakare")]),
    )
    offer_id = await insert_offer(db, await insert_unit(db))
    assert (await book(placements_service, UNIVERSITY, offer_id)).status_code == 201
    assert await used(db) == [0, 0]


async def test_a_quota_added_later_counts_the_bookings_already_made(
    placements_service: RunningService,
) -> None:
    db = placements_service.db
    terms = agreement_terms()
    await project_agreement(db, terms)
    offer_id = await insert_offer(db, await insert_unit(db))
    booked = await book(placements_service, UNIVERSITY, offer_id, places=3)
    assert booked.status_code == 201
    # An amendment, as a new version of the series, brings a ceiling of 4.
    amended = agreement_terms(
        series_id=terms.series_id,
        version_number=2,
        supersedes_agreement_id=terms.agreement_id,
        quotas=[quota(4)],
    )
    await project_agreement(db, amended)
    assert await used(db) == [3]
    assert (await book(placements_service, UNIVERSITY, offer_id, places=1)).status_code == 201
    assert problem_code(await book(placements_service, UNIVERSITY, offer_id)) == "quota_exceeded"
    # Use carries over the series: the booking covered by version 1 releases version 2's.
    cancel = await action(placements_service, UNIVERSITY, booked.json()["id"], "cancel", reason="x")
    assert cancel.status_code == 200, cancel.text
    assert await used(db) == [1]


async def test_a_ceiling_lowered_below_use_keeps_the_bookings_and_takes_no_more(
    placements_service: RunningService,
) -> None:
    db = placements_service.db
    terms = agreement_terms(quotas=[quota(5)])
    await project_agreement(db, terms)
    offer_id = await insert_offer(db, await insert_unit(db))
    first = (await book(placements_service, UNIVERSITY, offer_id, places=3)).json()["id"]
    assert (await book(placements_service, UNIVERSITY, offer_id, places=2)).status_code == 201
    await project_agreement(db, terms.model_copy(update={"quotas": [quota(2)]}), version=2)
    (row,) = await quota_rows(db)
    assert (row["amount"], row["used"], row["excess"]) == (2, 5, 3)
    assert problem_code(await book(placements_service, UNIVERSITY, offer_id)) == "quota_exceeded"
    await action(placements_service, UNIVERSITY, first, "cancel", reason="other")
    (row,) = await quota_rows(db)
    assert (row["used"], row["excess"]) == (2, 0)
    assert problem_code(await book(placements_service, UNIVERSITY, offer_id)) == "quota_exceeded"
    # An older event delivered late changes nothing (the projection is version-guarded).
    await project_agreement(db, terms, version=1)
    assert (await quota_rows(db))[0]["amount"] == 2


async def test_the_database_refuses_use_past_a_ceiling(
    placements_service: RunningService,
) -> None:
    db = placements_service.db
    await project_agreement(db, agreement_terms(quotas=[quota(2)]))
    with pytest.raises(IntegrityError):
        async with db.write() as session:
            await session.execute(update(quota_use).values(used=3))
    assert await used(db) == [0]


async def test_quota_use_is_read_by_its_parties(placements_service: RunningService) -> None:
    db = placements_service.db
    terms = agreement_terms(quotas=[quota(3)])
    await project_agreement(db, terms)
    offer_id = await insert_offer(db, await insert_unit(db))
    assert (await book(placements_service, UNIVERSITY, offer_id, places=2)).status_code == 201

    def listed(response: httpx.Response) -> list[tuple[str, int, int | None]]:
        assert response.status_code == 200, response.text
        return [(q["kind"], q["used"], q["remaining"]) for q in response.json()["items"]]

    mine = await placements_service.call(UNIVERSITY, "GET", "/quotas", params={"term": TERM})
    assert listed(mine) == [("ceiling", 2, 1)]
    by_version = {"agreement_id": str(terms.agreement_id)}
    assert listed(await placements_service.call(PROVIDER, "GET", "/quotas", params=by_version))
    assert listed(await placements_service.call(OTHER_UNIVERSITY, "GET", "/quotas")) == []
    other_term = await placements_service.call(
        UNIVERSITY, "GET", "/quotas", params={"term": "2028-VT"}
    )
    assert listed(other_term) == []
    assert (await placements_service.call(PORTAL, "GET", "/quotas")).status_code == 403
    bad = await placements_service.call(UNIVERSITY, "GET", "/quotas", params={"term": "HT27"})
    assert problem_code(bad) == "validation_error"


@pytest.mark.stress
async def test_50_concurrent_bookings_against_a_ceiling_of_10(
    placements_service: RunningService,
) -> None:
    db = placements_service.db
    await project_agreement(db, agreement_terms(quotas=[quota(10)]))
    unit = await insert_unit(db)
    offers = [await insert_offer(db, unit) for _ in range(5)]  # 50 places in all
    start = asyncio.Event()

    async def one(n: int) -> httpx.Response:
        body = {
            "offer_id": str(offers[n % len(offers)]),
            "places": 1,
            "course_code": "3SJ201",
            "course_instance": f"HT27-{n}",
        }
        headers = UNIVERSITY.headers() | {"Idempotency-Key": f"quota-race-{n}"}
        async with httpx.AsyncClient(base_url=placements_service.url, timeout=120.0) as client:
            await start.wait()
            return await client.post(API + BOOKINGS, json=body, headers=headers)

    tasks = [asyncio.create_task(one(n)) for n in range(50)]
    await asyncio.sleep(0.2)
    start.set()
    responses = await asyncio.gather(*tasks)
    accepted = [r for r in responses if r.status_code == 201]
    assert len(accepted) == 10
    assert all(problem_code(r) == "quota_exceeded" for r in responses if r.status_code != 201)
    assert await used(db) == [10]
    held = [(await offer_counts(db, offer_id))[1] for offer_id in offers]
    assert sum(held) == 10
