"""The agreement scheduler: two schedulers racing emit every event exactly once.

Two ``Database`` objects on one database stand for two replicas; their ticks run at the
same moment with the lease bypassed (a lease handed over mid-tick), so only the
conditional UPDATEs keep the events single. SQLite and PostgreSQL.
"""

from __future__ import annotations

import asyncio
import sys
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from datetime import date, timedelta
from typing import Any

import pytest
from agreements.calendar import CALENDAR
from agreements.contracting import drafting, lifecycle, service
from agreements.contracting.scheduler import LEASE_NAME, AgreementScheduler
from agreements.contracting.schemas import AgreementCreate
from agreements.organisations.schemas import OrganisationCreate
from agreements.organisations.service import register_organisation
from sqlalchemy import select
from vfu_common.db import Database
from vfu_common.events.envelope import Envelope
from vfu_common.messaging.lease import Lease
from vfu_common.messaging.tables import outbox
from vfu_common.principal import Principal

TODAY = date(2027, 1, 11)
ORGANISATIONS = (
    ("region", "2321000024", "Region Uppsala", {"county_code": "03"}),
    ("municipality", "2120003005", "Uppsala kommun", {"municipality_code": "0380"}),
    ("university", "2021002932", "Uppsala universitet", {"municipality_code": "0380"}),
)


@pytest.fixture(autouse=True)
def pinned_clock() -> Iterator[None]:
    CALENDAR.set(TODAY)
    yield
    CALENDAR.set(None)


@pytest.fixture
async def db(database_url: str, migrate_service: Any) -> AsyncIterator[Database]:
    await migrate_service("agreements", database_url)
    database = Database(database_url)
    try:
        yield database
    finally:
        await database.dispose()


async def register(db: Database) -> dict[str, uuid.UUID]:
    ids = {}
    async with db.write() as session:
        for kind, number, name, extra in ORGANISATIONS:
            data = OrganisationCreate.model_validate(
                {"organisation_number": number, "kind": kind, "name": name, **extra}
            )
            ids[kind] = (await register_organisation(session, data=data)).id
    return ids


def principal(ids: dict[str, uuid.UUID], kind: str) -> Principal:
    role = "university" if kind == "university" else "provider"
    return Principal(subject=kind, organisation_id=ids[kind], roles=frozenset({role}))


ADMIN = Principal(subject="admin", roles=frozenset({"admin"}))


async def signed_agreement(
    db: Database, ids: dict[str, uuid.UUID], programme: str, **terms: Any
) -> uuid.UUID:
    """A proposed agreement every party signed (active if valid_from has come)."""
    data = AgreementCreate.model_validate(
        {
            "agreement_type": "tripartite_vfu",
            "title": programme,
            "parties": [{"organisation_id": str(i), "role": k} for k, i in ids.items()],
            "programmes": [programme],
            "valid_from": TODAY.isoformat(),
            **terms,
        }
    )
    async with db.write() as session:
        agreement = await drafting.create_agreement(session, data=data, principal=ADMIN)
        await lifecycle.propose(session, agreement.id, principal=ADMIN)
    for kind in ids:
        async with db.write() as session:
            await lifecycle.sign(session, agreement.id, principal=principal(ids, kind))
    return agreement.id


async def event_counts(db: Database) -> Counter[tuple[str, str]]:
    async with db.read() as session:
        rows = (await session.execute(select(outbox.c.payload))).scalars().all()
    envelopes = [Envelope.from_bytes(payload) for payload in rows]
    return Counter(
        (e.aggregateid, e.type.split(".")[3]) for e in envelopes if e.aggregatetype == "agreement"
    )


@pytest.mark.stress
async def test_two_schedulers_racing_emit_each_event_once(db: Database) -> None:
    ids = await register(db)
    day = TODAY + timedelta(days=40)
    to_activate = await signed_agreement(
        db, ids, "LAK", valid_from=(TODAY + timedelta(days=10)).isoformat()
    )
    to_remind = await signed_agreement(
        db, ids, "SSK", valid_to=(day + timedelta(days=20)).isoformat()
    )
    to_expire = await signed_agreement(
        db, ids, "ARB", valid_to=(day - timedelta(days=1)).isoformat()
    )
    to_terminate = await signed_agreement(db, ids, "FYS", notice_period_months=1)
    async with db.write() as session:
        await lifecycle.give_notice(session, to_terminate, principal=principal(ids, "region"))
    before = await event_counts(db)

    replicas = [Database(db.url), Database(db.url)]
    try:
        schedulers = [AgreementScheduler(replica) for replica in replicas]
        for _ in range(3):  # later rounds find nothing left to do
            reports = await asyncio.gather(*(s.tick(day) for s in schedulers))
            assert all(r is not None for r in reports)
    finally:
        for replica in replicas:
            await replica.dispose()

    new = await event_counts(db) - before
    assert new == Counter(
        {
            (str(to_activate), "activated"): 1,
            (str(to_remind), "expiry_upcoming"): 1,
            (str(to_expire), "expired"): 1,
            (str(to_terminate), "terminated"): 1,
        }
    )


@pytest.mark.stress
async def test_many_concurrent_ticks_activate_once(db: Database) -> None:
    ids = await register(db)
    starts = TODAY + timedelta(days=5)
    agreement_ids = [
        await signed_agreement(db, ids, f"P{i}", valid_from=starts.isoformat()) for i in range(4)
    ]
    replicas = [Database(db.url) for _ in range(4)]
    try:
        await asyncio.gather(
            *(AgreementScheduler(r).tick(starts) for r in replicas for _ in range(2))
        )
    finally:
        for replica in replicas:
            await replica.dispose()
    counts = await event_counts(db)
    assert [counts[(str(a), "activated")] for a in agreement_ids] == [1, 1, 1, 1]


@pytest.mark.stress
async def test_only_one_replica_holds_the_scheduler_lease(db: Database) -> None:
    other = Database(db.url)
    try:
        first = Lease(db, LEASE_NAME)
        second = Lease(other, LEASE_NAME)
        assert await first.acquire()
        assert not await second.acquire()
        await first.release()
        assert await second.acquire()
    finally:
        await other.dispose()


async def test_the_run_loop_ticks_under_the_lease(db: Database) -> None:
    ids = await register(db)
    agreement_id = await signed_agreement(
        db, ids, "LAK", valid_from=(TODAY + timedelta(days=1)).isoformat()
    )
    CALENDAR.set(TODAY + timedelta(days=1))
    scheduler = AgreementScheduler(db, interval_seconds=0.01)
    task = asyncio.create_task(scheduler.run())
    try:
        for _ in range(500):
            if (await event_counts(db))[(str(agreement_id), "activated")]:
                break
            await asyncio.sleep(0.01)
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    assert (await event_counts(db))[(str(agreement_id), "activated")] == 1
    # Stopping released the lease: another replica takes over at once.
    assert await Lease(db, LEASE_NAME).acquire()


_TICK_IN_A_PROCESS = """
import asyncio, sys, time
from datetime import date
from vfu_common.db import Database
from agreements.contracting.scheduler import AgreementScheduler

async def main(url: str, day: str, start_at: float) -> None:
    db = Database(url)
    scheduler = AgreementScheduler(db)
    await asyncio.sleep(max(0.0, start_at - time.time()))  # both processes start together
    for _ in range(3):
        await scheduler.tick(date.fromisoformat(day))
    await db.dispose()

asyncio.run(main(sys.argv[1], sys.argv[2], float(sys.argv[3])))
"""


@pytest.mark.stress
async def test_schedulers_in_two_processes_emit_each_event_once(db: Database) -> None:
    """The same race as above, with two OS processes, as two replicas would run it."""
    ids = await register(db)
    day = TODAY + timedelta(days=40)
    to_activate = await signed_agreement(
        db, ids, "LAK", valid_from=(TODAY + timedelta(days=10)).isoformat()
    )
    to_expire = await signed_agreement(
        db, ids, "ARB", valid_to=(day - timedelta(days=1)).isoformat()
    )
    to_remind = await signed_agreement(
        db, ids, "SSK", valid_to=(day + timedelta(days=20)).isoformat()
    )
    before = await event_counts(db)

    start_at = time.time() + 3.0  # after both interpreters have imported everything
    processes = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            _TICK_IN_A_PROCESS,
            db.url,
            day.isoformat(),
            str(start_at),
            stderr=asyncio.subprocess.PIPE,
        )
        for _ in range(2)
    ]
    results = [await p.communicate() for p in processes]
    assert [p.returncode for p in processes] == [0, 0], [err.decode() for _, err in results]

    new = await event_counts(db) - before
    assert new == Counter(
        {
            (str(to_activate), "activated"): 1,
            (str(to_expire), "expired"): 1,
            (str(to_remind), "expiry_upcoming"): 1,
        }
    )


async def test_auto_renewing_agreement_renews_instead_of_expiring(db: Database) -> None:
    ids = await register(db)
    valid_to = TODAY + timedelta(days=5)
    renewing = await signed_agreement(
        db, ids, "SSK", valid_to=valid_to.isoformat(), auto_renewal_months=12
    )
    plain = await signed_agreement(db, ids, "LAK", valid_to=valid_to.isoformat())
    noticed = await signed_agreement(
        db,
        ids,
        "ARB",
        valid_to=(TODAY + timedelta(days=40)).isoformat(),
        auto_renewal_months=12,
        notice_period_months=1,
    )
    async with db.write() as session:
        await lifecycle.give_notice(session, noticed, principal=principal(ids, "region"))
    before = await event_counts(db)

    day = TODAY + timedelta(days=45)
    scheduler = AgreementScheduler(db)
    for _ in range(2):  # the second tick finds nothing left to do
        await scheduler.tick(day)

    new = await event_counts(db) - before
    assert new == Counter(
        {
            (str(renewing), "renewed"): 1,
            (str(plain), "expired"): 1,
            (str(noticed), "terminated"): 1,
        }
    )
    async with db.read() as session:
        agreement = await service.get_agreement(session, renewing, principal=ADMIN)
    assert agreement.status == "active"
    assert agreement.valid_to == date(2028, 1, 16)  # valid_to + 12 months, past the tick day


def test_renewal_moves_by_whole_periods_past_today() -> None:
    assert lifecycle.renewed_until(date(2026, 1, 31), 1, date(2026, 2, 10)) == date(2026, 2, 28)
    assert lifecycle.renewed_until(date(2026, 1, 31), 1, date(2026, 3, 30)) == date(2026, 3, 31)
    assert lifecycle.renewed_until(date(2026, 6, 30), 12, date(2029, 1, 1)) == date(2029, 6, 30)


async def test_one_failing_agreement_does_not_hold_the_others_back(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = await register(db)
    ending = {
        await signed_agreement(db, ids, programme, valid_to=(TODAY + timedelta(days=5)).isoformat())
        for programme in ("SSK", "LAK", "ARB")
    }
    poisoned = min(ending)  # the first one the tick meets, whatever the database's order
    real_end_if_due = lifecycle.end_if_due

    async def failing_for_one(session: Any, agreement_id: uuid.UUID, *, today: date) -> Any:
        if agreement_id == poisoned:
            raise RuntimeError("poison agreement")
        return await real_end_if_due(session, agreement_id, today=today)

    monkeypatch.setattr(lifecycle, "end_if_due", failing_for_one)
    report = await AgreementScheduler(db).tick(TODAY + timedelta(days=6))
    assert set(report.ended) == ending - {poisoned}
