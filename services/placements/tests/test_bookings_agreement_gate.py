"""The agreement gate follows agreement events, with no agreements service anywhere.

Activated → bookings are accepted; terminated, expired or ended early → new bookings are
refused with ``no_active_agreement`` and open bookings that outlast the agreement are
flagged (``agreement_ends_on``) and announced with ``booking.agreement_ended``, once.
An amendment that carries the series on flags nothing. The last test feeds the events
through NATS into the running service's own consumer.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from datetime import date
from typing import Any

import nats
from placements.subscriptions import FROM_AGREEMENTS as HANDLERS
from vfu_common.events.contracts import (
    AGREEMENT_ACTIVATED,
    AGREEMENT_AMENDED,
    AGREEMENT_EXPIRED,
    AGREEMENT_NOTICE_GIVEN,
    AGREEMENT_TERMINATED,
    AgreementTermsV1,
    EventContract,
)
from vfu_common.events.streams import ensure_stream, service_stream
from vfu_common.messaging.outbox import build_envelope
from vfu_devrun.processes import NatsServer

from services.placements.tests.booking_kit import (
    BOOKINGS,
    END,
    book,
    booking_row,
    events,
    insert_offer,
    insert_unit,
    problem_code,
)
from services.placements.tests.conftest import (
    PROVIDER,
    REGION_ID,
    UNIVERSITY,
    RunningService,
    agreement_terms,
)

NOTICE_FIELDS = {"notice_given_by_organisation_id": REGION_ID, "notice_given_on": date(2027, 3, 1)}


async def booked(service: RunningService, offer_id: uuid.UUID, **fields: Any) -> str:
    response = await book(service, UNIVERSITY, offer_id, **fields)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def act(service: RunningService, booking_id: str, action: str, body: Any = None) -> None:
    kwargs = {} if body is None else {"json": body}
    response = await service.call(PROVIDER, "POST", f"{BOOKINGS}/{booking_id}/{action}", **kwargs)
    assert response.status_code == 200, response.text


async def project(
    service: RunningService, contract: EventContract, terms: AgreementTermsV1, version: int
) -> None:
    """Apply an agreement event carrying ``terms`` (+ the fields its type needs), as the
    service's NATS consumer would."""
    extra = NOTICE_FIELDS if contract is AGREEMENT_NOTICE_GIVEN else {}
    payload = contract.payload.model_validate(terms.model_dump() | extra)
    envelope = build_envelope(
        contract,
        payload,
        source="/vfu/agreements",
        aggregate_id=terms.agreement_id,
        aggregate_version=version,
    )
    async with service.db.write() as session:
        await HANDLERS[contract.event_type](session, envelope, payload)


async def flagged_events(service: RunningService) -> dict[str, int]:
    found = await events(service.db, type_suffix="booking.agreement_ended.v1")
    counts: dict[str, int] = {}
    for event in found:
        counts[event.aggregateid] = counts.get(event.aggregateid, 0) + 1
    return counts


async def test_termination_refuses_new_bookings_and_flags_open_ones_once(
    placements_service: RunningService,
) -> None:
    db = placements_service.db
    unit = await insert_unit(db)
    offer_id = await insert_offer(db, unit)
    short_offer = await insert_offer(db, unit, end_date=date(2027, 9, 17))
    agreement = agreement_terms()

    refused = await book(placements_service, UNIVERSITY, offer_id)
    assert refused.json()["detail"].startswith("no_agreement_between_parties")
    await project(placements_service, AGREEMENT_ACTIVATED, agreement, 1)
    requested = await booked(placements_service, offer_id)
    confirmed = await booked(placements_service, offer_id)
    await act(placements_service, confirmed, "confirm")
    in_progress = await booked(placements_service, offer_id)
    await act(placements_service, in_progress, "confirm")
    await act(placements_service, in_progress, "start")
    cancelled = await booked(placements_service, offer_id)
    await act(placements_service, cancelled, "cancel", {"reason": "no_supervisor"})
    ends_in_time = await booked(placements_service, short_offer)

    # Terminated after notice: the agreement's last day is 30 September.
    ended = agreement.model_copy(
        update={"status": "terminated", "effective_until": date(2027, 9, 30)}
    )
    await project(placements_service, AGREEMENT_TERMINATED, ended, 4)

    refused = await book(placements_service, UNIVERSITY, offer_id)
    assert (refused.status_code, problem_code(refused)) == (409, "no_active_agreement")
    assert refused.json()["detail"].startswith("agreement_not_active: ")
    assert await flagged_events(placements_service) == {
        requested: 1,
        confirmed: 1,
        in_progress: 1,
    }
    for booking_id in (requested, confirmed, in_progress):
        row = await booking_row(db, booking_id)
        assert row["agreement_ends_on"] == date(2027, 9, 30)
        response = await placements_service.call(UNIVERSITY, "GET", f"{BOOKINGS}/{booking_id}")
        assert response.json()["agreement_ends_on"] == "2027-09-30"
    for booking_id in (cancelled, ends_in_time):
        assert (await booking_row(db, booking_id))["agreement_ends_on"] is None
    (event, *_) = [
        e
        for e in await events(db, type_suffix="booking.agreement_ended.v1")
        if e.aggregateid == confirmed
    ]
    assert event.data["agreement_ends_on"] == "2027-09-30"
    assert event.data["agreement_id"] == str(agreement.agreement_id)
    assert event.data["status"] == "confirmed"

    # Redelivery and later events of the same agreement announce nothing again.
    await project(placements_service, AGREEMENT_TERMINATED, ended, 4)
    await project(placements_service, AGREEMENT_TERMINATED, ended, 5)
    assert set((await flagged_events(placements_service)).values()) == {1}


async def test_notice_shortening_the_agreement_flags_at_notice_time(
    placements_service: RunningService,
) -> None:
    db = placements_service.db
    unit = await insert_unit(db)
    offer_id = await insert_offer(db, unit)
    agreement = agreement_terms()
    await project(placements_service, AGREEMENT_ACTIVATED, agreement, 1)
    booking_id = await booked(placements_service, offer_id)

    noticed = agreement.model_copy(
        update={"status": "notice_given", "effective_until": date(2027, 10, 15)}
    )
    await project(placements_service, AGREEMENT_NOTICE_GIVEN, noticed, 2)
    assert await flagged_events(placements_service) == {booking_id: 1}
    assert (await booking_row(db, booking_id))["agreement_ends_on"] == date(2027, 10, 15)
    # Still in force, but not for the whole period any more.
    refused = await book(placements_service, UNIVERSITY, offer_id)
    assert refused.json()["detail"].startswith("dates_not_covered: ")
    # A placement inside the notice period is still accepted.
    inside = await insert_offer(db, unit, end_date=date(2027, 10, 15))
    await booked(placements_service, inside)


async def test_expiry_before_the_placement_ends_flags_it(
    placements_service: RunningService,
) -> None:
    db = placements_service.db
    offer_id = await insert_offer(db, await insert_unit(db))
    agreement = agreement_terms(valid_to=END)
    await project(placements_service, AGREEMENT_ACTIVATED, agreement, 1)
    booking_id = await booked(placements_service, offer_id)
    # Expiring at valid_to = the placement's last day leaves it covered.
    await project(
        placements_service, AGREEMENT_EXPIRED, agreement.model_copy(update={"status": "expired"}), 2
    )
    assert await flagged_events(placements_service) == {}
    assert (await booking_row(db, booking_id))["agreement_ends_on"] is None


async def test_an_amendment_carries_the_series_on_and_flags_nothing(
    placements_service: RunningService,
) -> None:
    db = placements_service.db
    offer_id = await insert_offer(db, await insert_unit(db))
    first = agreement_terms()
    await project(placements_service, AGREEMENT_ACTIVATED, first, 1)
    booking_id = await booked(placements_service, offer_id)

    # As the agreements service emits an activated amendment: the new version activated,
    # the old one ended the day before, then amended.
    second = agreement_terms(
        series_id=first.series_id,
        version_number=2,
        supersedes_agreement_id=first.agreement_id,
        valid_from=date(2027, 10, 1),
    )
    await project(placements_service, AGREEMENT_ACTIVATED, second, 1)
    old_ended = first.model_copy(update={"status": "expired", "effective_until": date(2027, 9, 30)})
    await project(placements_service, AGREEMENT_EXPIRED, old_ended, 2)
    await project(placements_service, AGREEMENT_AMENDED, second, 2)
    assert await flagged_events(placements_service) == {}
    assert (await booking_row(db, booking_id))["agreement_ends_on"] is None

    # The series itself ending does flag it.
    last = second.model_copy(update={"status": "terminated", "effective_until": date(2027, 10, 20)})
    await project(placements_service, AGREEMENT_TERMINATED, last, 3)
    assert await flagged_events(placements_service) == {booking_id: 1}
    assert (await booking_row(db, booking_id))["agreement_ends_on"] == date(2027, 10, 20)


async def eventually(check: Callable[[], Awaitable[bool]], timeout: float = 30.0) -> None:
    """Poll ``check`` until true; fail after ``timeout`` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not await check():
        if loop.time() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        await asyncio.sleep(0.05)


async def test_gate_follows_agreement_events_over_nats(
    placements_service: RunningService, nats_server: NatsServer
) -> None:
    """The running service's own consumer applies AGREEMENTS events; no agreements service."""
    db = placements_service.db
    offer_id = await insert_offer(db, await insert_unit(db))
    agreement = agreement_terms()
    nc = await nats.connect(nats_server.url)
    js = nc.jetstream()
    await ensure_stream(js, service_stream("agreements"))

    async def publish(contract: EventContract, terms: AgreementTermsV1, version: int) -> None:
        payload = contract.payload.model_validate(terms.model_dump())
        envelope = build_envelope(
            contract,
            payload,
            source="/vfu/agreements",
            aggregate_id=terms.agreement_id,
            aggregate_version=version,
        )
        await js.publish(
            contract.event_type, envelope.to_bytes(), headers={"Nats-Msg-Id": str(envelope.id)}
        )

    booking: dict[str, str] = {}

    async def books() -> bool:
        response = await book(placements_service, UNIVERSITY, offer_id)
        if response.status_code == 201:
            booking["id"] = response.json()["id"]
        return response.status_code == 201

    async def flagged() -> bool:
        response = await placements_service.call(UNIVERSITY, "GET", f"{BOOKINGS}/{booking['id']}")
        return response.json()["agreement_ends_on"] == "2027-09-30"

    try:
        assert problem_code(await book(placements_service, UNIVERSITY, offer_id)) == (
            "no_active_agreement"
        )
        await publish(AGREEMENT_ACTIVATED, agreement, 1)
        await eventually(books)
        ended = agreement.model_copy(
            update={"status": "terminated", "effective_until": date(2027, 9, 30)}
        )
        await publish(AGREEMENT_TERMINATED, ended, 2)
        await eventually(flagged)
        refused = await book(placements_service, UNIVERSITY, offer_id)
        assert refused.json()["detail"].startswith("agreement_not_active: ")
        assert await flagged_events(placements_service) == {booking["id"]: 1}
    finally:
        await nc.close()
