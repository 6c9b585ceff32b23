"""A cancellation records how long before the start it came, and is late under six weeks'
notice, whoever cancels (the university, the provider, or the provider's withdrawal of
the offer). Through the real app, on SQLite and PostgreSQL; the calendar is pinned.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest
from placements.calendar import CALENDAR

from services.placements.tests.booking_kit import (
    BOOKINGS,
    START,
    book,
    events,
    insert_offer,
    insert_unit,
)
from services.placements.tests.conftest import (
    PROVIDER,
    REGION_ID,
    UNIVERSITY,
    UNIVERSITY_ID,
    RunningService,
    agreement_terms,
    project_agreement,
)


@pytest.fixture(autouse=True)
def pinned_calendar() -> Iterator[None]:
    yield
    CALENDAR.set(None)


def weeks_before_start(days: int) -> date:
    return START - timedelta(days=days)


async def _booked(service: RunningService, *, confirm: bool = True) -> tuple[Any, str]:
    db = service.db
    await project_agreement(db, agreement_terms())
    offer_id = await insert_offer(db, await insert_unit(db))
    made = await book(service, UNIVERSITY, offer_id, places=2)
    assert made.status_code == 201, made.text
    booking_id = made.json()["id"]
    if confirm:
        confirmed = await service.call(
            PROVIDER, "POST", f"{BOOKINGS}/{booking_id}/confirm", json={}
        )
        assert confirmed.status_code == 200, confirmed.text
    return offer_id, booking_id


async def _cancel(service: RunningService, actor: Any, booking_id: str) -> dict[str, Any]:
    response = await service.call(
        actor, "POST", f"{BOOKINGS}/{booking_id}/cancel", json={"reason": "course_cancelled"}
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


@pytest.mark.parametrize(("lead", "late"), [(56, False), (42, False), (41, True), (0, True)])
async def test_a_cancellation_under_six_weeks_before_the_start_is_late(
    placements_service: RunningService, lead: int, late: bool
) -> None:
    CALENDAR.set(weeks_before_start(lead))
    _, booking_id = await _booked(placements_service)
    cancelled = await _cancel(placements_service, UNIVERSITY, booking_id)
    assert (cancelled["cancel_lead_days"], cancelled["cancelled_late"]) == (lead, late)
    assert cancelled["cancelled_by_organisation_id"] == str(UNIVERSITY_ID)
    [event] = await events(placements_service.db, type_suffix="booking.cancelled.v1")
    assert (event.data["cancel_lead_days"], event.data["cancelled_late"]) == (lead, late)


async def test_the_provider_cancelling_or_withdrawing_late_is_recorded_as_its_own(
    placements_service: RunningService,
) -> None:
    CALENDAR.set(weeks_before_start(20))
    _, booking_id = await _booked(placements_service)
    cancelled = await _cancel(placements_service, PROVIDER, booking_id)
    assert cancelled["cancelled_late"] is True
    assert cancelled["cancelled_by_organisation_id"] == str(REGION_ID)

    CALENDAR.set(weeks_before_start(10))
    offer_id, other = await _booked(placements_service)
    withdrawn = await placements_service.call(
        PROVIDER, "POST", f"/offers/{offer_id}/withdraw", json={"reason": "the ward closes"}
    )
    assert withdrawn.status_code == 200, withdrawn.text
    row = (await placements_service.call(UNIVERSITY, "GET", f"{BOOKINGS}/{other}")).json()
    assert (row["status"], row["reason"]) == ("cancelled", "offer_withdrawn")
    assert (row["cancel_lead_days"], row["cancelled_late"]) == (10, True)
    assert row["cancelled_by_organisation_id"] == str(REGION_ID)


async def test_bookings_not_cancelled_carry_no_lead_time(
    placements_service: RunningService,
) -> None:
    CALENDAR.set(weeks_before_start(30))
    _, booking_id = await _booked(placements_service, confirm=False)
    row = (await placements_service.call(UNIVERSITY, "GET", f"{BOOKINGS}/{booking_id}")).json()
    assert (row["cancel_lead_days"], row["cancelled_late"]) == (None, None)
