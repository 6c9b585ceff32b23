"""The supervisor projection: full-state events applied when newer, in any order, once;
and the gate following supervisor events that arrive over real NATS."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import nats
import pytest
from placements.subscriptions import SUBSCRIPTIONS
from placements.supervision.models import supervisor_projection, supervisor_projection_units
from placements.supervision.projection import HANDLERS
from sqlalchemy import select
from vfu_common.db import Database
from vfu_common.events.contracts import (
    QUALIFICATION_CHANGED,
    SUPERVISOR_CHANGED,
    SUPERVISOR_REGISTERED,
    EventContract,
    platform_contracts,
)
from vfu_common.events.streams import ensure_stream, service_stream

from services.placements.tests.booking_kit import insert_offer, insert_unit, problem_code
from services.placements.tests.conftest import (
    RunningService,
    agreement_terms,
    project_agreement,
)
from services.placements.tests.supervision_kit import (
    assign,
    confirmed_booking,
    project_supervisor,
    supervisor,
    supervisor_envelope,
)

SUPERVISOR_CONTRACTS = (SUPERVISOR_REGISTERED, SUPERVISOR_CHANGED, QUALIFICATION_CHANGED)


async def stored(db: Database, supervisor_id: uuid.UUID) -> dict[str, Any] | None:
    """The projected row and its unit ids, or None."""
    async with db.read() as session:
        row = (
            (
                await session.execute(
                    select(supervisor_projection).where(
                        supervisor_projection.c.supervisor_id == supervisor_id
                    )
                )
            )
            .mappings()
            .one_or_none()
        )
        units = (
            await session.execute(
                select(supervisor_projection_units.c.unit_id).where(
                    supervisor_projection_units.c.supervisor_id == supervisor_id
                )
            )
        ).scalars()
        if row is None:
            return None
        return {**{k: v for k, v in row.items() if k != "updated_at"}, "units": set(units)}


def test_every_supervisor_state_event_has_a_handler_and_a_subscription() -> None:
    supervisor_events = {
        c.event_type for c in platform_contracts() if c.aggregate_type == "supervisor"
    }
    assert set(HANDLERS) == supervisor_events == {c.event_type for c in SUPERVISOR_CONTRACTS}
    (subscription,) = [s for s in SUBSCRIPTIONS if s.durable == "placements-from-supervisors"]
    assert subscription.stream == service_stream("supervisors")
    assert set(subscription.handlers) == supervisor_events


@pytest.mark.parametrize("contract", SUPERVISOR_CONTRACTS, ids=lambda c: c.event_type)
async def test_each_event_type_applies_the_state(db: Database, contract: EventContract) -> None:
    unit = uuid.uuid4()
    state = supervisor(unit_ids=[unit, unit], level_achieved="advanced", max_concurrent_students=3)
    await project_supervisor(db, state, version=4, contract=contract)
    assert await stored(db, state.supervisor_id) == {
        "supervisor_id": state.supervisor_id,
        "employer_id": state.employer_id,
        "profession_code": "sjukskoterska",
        "max_concurrent_students": 3,
        "active": True,
        "licence_verified": True,
        "level_achieved": "advanced",
        "required_level": "basic",
        "qualified": True,
        "aggregate_version": 4,
        "units": {unit},
    }


async def test_older_and_duplicate_events_change_nothing(db: Database) -> None:
    first_unit, second_unit = uuid.uuid4(), uuid.uuid4()
    old = supervisor(unit_ids=[first_unit], level_achieved=None, qualified=False)
    new = old.model_copy(
        update={"unit_ids": [second_unit], "level_achieved": "basic", "qualified": True}
    )

    await project_supervisor(db, new, version=3, contract=QUALIFICATION_CHANGED)
    await project_supervisor(db, old, version=2, contract=SUPERVISOR_CHANGED)  # late
    await project_supervisor(db, old, version=3, contract=SUPERVISOR_CHANGED)  # same version
    after = await stored(db, new.supervisor_id)

    assert after is not None
    assert (after["aggregate_version"], after["level_achieved"], after["qualified"]) == (
        3,
        "basic",
        True,
    )
    assert after["units"] == {second_unit}

    cleared = new.model_copy(update={"unit_ids": []})
    await project_supervisor(db, cleared, version=4, contract=SUPERVISOR_CHANGED)
    assert (await stored(db, new.supervisor_id) or {})["units"] == set()


@pytest.fixture
async def db(database_url: str, migrate_service: Any) -> Any:
    await migrate_service("placements", database_url)
    database = Database(database_url)
    try:
        yield database
    finally:
        await database.dispose()


# --- over NATS -------------------------------------------------------------------------


async def eventually(check: Callable[[], Awaitable[bool]], timeout: float = 30.0) -> None:
    """Poll ``check`` until true; fail after ``timeout`` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not await check():
        if loop.time() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        await asyncio.sleep(0.05)


async def test_the_gate_follows_supervisor_events_over_nats(
    placements_service: RunningService, nats_server: Any
) -> None:
    db = placements_service.db
    await project_agreement(db, agreement_terms())
    offer_id = await insert_offer(db, await insert_unit(db))
    booking_id = await confirmed_booking(placements_service, offer_id)
    untrained = supervisor(level_achieved=None, qualified=False)
    nc = await nats.connect(nats_server.url)
    js = nc.jetstream()
    await ensure_stream(js, service_stream("supervisors"))

    async def publish(state: Any, version: int, contract: EventContract) -> None:
        envelope, _ = supervisor_envelope(state, version=version, contract=contract)
        await js.publish(
            contract.event_type, envelope.to_bytes(), headers={"Nats-Msg-Id": str(envelope.id)}
        )

    async def refused_with(code: str) -> bool:
        response = await assign(placements_service, booking_id, untrained.supervisor_id)
        return response.status_code == 409 and problem_code(response) == code

    try:
        assert await refused_with("unknown_supervisor")
        await publish(untrained, 1, SUPERVISOR_REGISTERED)
        await eventually(lambda: refused_with("supervisor_not_qualified"))

        trained = untrained.model_copy(update={"level_achieved": "basic", "qualified": True})
        await publish(trained, 2, QUALIFICATION_CHANGED)
        await eventually(lambda: _stored_version_is(db, untrained.supervisor_id, 2))
        response = await assign(placements_service, booking_id, untrained.supervisor_id)
        assert response.status_code == 201, response.text
    finally:
        await nc.close()


async def _stored_version_is(db: Database, supervisor_id: uuid.UUID, version: int) -> bool:
    row = await stored(db, supervisor_id)
    return row is not None and row["aggregate_version"] == version
