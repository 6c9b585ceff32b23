"""A Hypothesis state machine of the agreement lifecycle, on the service functions.

Random parties sign, drafts are proposed, amended, abandoned, notice is given, and the
clock jumps forward with a scheduler tick. After every step the invariants hold: states
are valid and only move forward, nothing is active without every signature,
effective_until is never before valid_from, and every transition's event is in the
outbox exactly once with a newer aggregate version. SQLite, directly (no HTTP), for speed.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any, ClassVar

from agreements.calendar import CALENDAR
from agreements.contracting import drafting, lifecycle
from agreements.contracting.models import STATUSES, Agreement
from agreements.contracting.scheduler import AgreementScheduler
from agreements.contracting.schemas import AgreementAmend, AgreementCreate, PartyIn
from agreements.organisations.schemas import OrganisationCreate
from agreements.organisations.service import register_organisation
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule
from sqlalchemy import delete, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload
from vfu_common.db import Database
from vfu_common.errors import ProblemError
from vfu_common.events.envelope import Envelope
from vfu_common.messaging.tables import outbox
from vfu_common.principal import Principal
from vfu_testing.databases import migrate, sqlite_url
from vfu_testing.stateful import run_state_machine

ALEMBIC_INI = Path(__file__).resolve().parents[1] / "alembic.ini"
START = date(2027, 1, 11)
ADMIN = Principal(subject="admin", roles=frozenset({"admin"}))
PARTIES = (
    ("region", "2321000024", "Region Uppsala", {"county_code": "03"}),
    ("municipality", "2120003005", "Uppsala kommun", {"municipality_code": "0380"}),
    ("university", "2021002932", "Uppsala universitet", {"municipality_code": "0380"}),
)
# Where each state may go, in one step or several (a tick can activate and expire).
LATER = {
    "draft": {"pending_signatures", "abandoned", "active", "notice_given", "expired", "terminated"},
    "pending_signatures": {"abandoned", "active", "notice_given", "expired", "terminated"},
    "active": {"notice_given", "expired", "terminated"},
    "notice_given": {"terminated"},
    "terminated": set(),
    "expired": set(),
    "abandoned": set(),
}
SIGNED_STATES = {"active", "notice_given", "terminated", "expired"}
REFUSALS = {
    "invalid_transition",
    "already_signed",
    "amendment_in_progress",
    "not_latest_version",
    "invalid_effective_date",
    "notice_after_end",
}


class World:
    """The event loop, database and organisations shared by every example."""

    def __init__(self, tmp_path: Path) -> None:
        self.loop = asyncio.new_event_loop()
        self.url = sqlite_url(tmp_path)
        self.loop.run_until_complete(migrate(ALEMBIC_INI, self.url))
        self.db = Database(self.url)
        self.ids: dict[str, uuid.UUID] = self.run(self._register())
        self.scheduler = AgreementScheduler(self.db, reminder_days=60)

    def run(self, work: Awaitable[Any]) -> Any:
        return self.loop.run_until_complete(work)

    async def _register(self) -> dict[str, uuid.UUID]:
        ids = {}
        async with self.db.write() as session:
            for kind, number, name, extra in PARTIES:
                data = OrganisationCreate.model_validate(
                    {"organisation_number": number, "kind": kind, "name": name, **extra}
                )
                ids[kind] = (await register_organisation(session, data=data)).id
        return ids

    async def clear(self) -> None:
        async with self.db.write() as session:
            await session.execute(update(Agreement).values(supersedes_agreement_id=None))
            for table in ("agreement_parties", "agreement_scope", "agreement_quotas"):
                await session.execute(text(f"DELETE FROM {table}"))
            await session.execute(text("DELETE FROM agreement_rates"))
            await session.execute(text("DELETE FROM agreement_documents"))
            await session.execute(delete(Agreement))
            await session.execute(delete(outbox))

    def close(self) -> None:
        self.run(self.db.dispose())
        self.loop.close()


def party_principal(world: World, kind: str) -> Principal:
    role = "university" if kind == "university" else "provider"
    return Principal(subject=kind, organisation_id=world.ids[kind], roles=frozenset({role}))


class Lifecycle(RuleBasedStateMachine):
    world: ClassVar[World]

    def __init__(self) -> None:
        super().__init__()
        CALENDAR.set(START)
        self.versions: list[uuid.UUID] = []
        self.parties: list[str] = []
        self.proposed: set[uuid.UUID] = set()
        self.seen: dict[uuid.UUID, str] = {}

    # --- helpers ---------------------------------------------------------------------------

    def write(self, step: Callable[[AsyncSession], Awaitable[Any]]) -> str | None:
        """Run ``step`` in a write transaction; the refusal code, or None on success."""

        async def go() -> None:
            async with self.world.db.write() as session:
                await step(session)

        code = None
        try:
            self.world.run(go())
        except ProblemError as exc:
            code = exc.code
        assert code is None or code in REFUSALS, code
        return code

    def load(self) -> list[Agreement]:
        async def go() -> list[Agreement]:
            async with self.world.db.read() as session:
                result = await session.execute(
                    select(Agreement)
                    .where(Agreement.id.in_(self.versions))
                    .options(selectinload(Agreement.parties))
                )
                return list(result.scalars().all())

        return list(self.world.run(go()))

    def status(self, agreement_id: uuid.UUID) -> str:
        return next(a.status for a in self.load() if a.id == agreement_id)

    def pick(self, index: int) -> uuid.UUID:
        return self.versions[index % len(self.versions)]

    # --- rules -----------------------------------------------------------------------------

    @initialize(
        starts_in=st.integers(0, 30),
        length=st.one_of(st.none(), st.integers(30, 500)),
        notice_months=st.integers(0, 4),
        bilateral=st.booleans(),
    )
    def create(
        self, starts_in: int, length: int | None, notice_months: int, bilateral: bool
    ) -> None:
        self.parties = (
            ["region", "university"] if bilateral else ["region", "municipality", "university"]
        )
        valid_from = START + timedelta(days=starts_in)
        data = AgreementCreate(
            agreement_type="bilateral_vfu" if bilateral else "tripartite_vfu",
            title="Lifecycle",
            parties=[PartyIn(organisation_id=self.world.ids[k], role=k) for k in self.parties],  # type: ignore[arg-type]
            programmes=["SSK"],
            valid_from=valid_from,
            valid_to=None if length is None else valid_from + timedelta(days=length),
            notice_period_months=notice_months,
        )

        async def go(session: AsyncSession) -> None:
            agreement = await drafting.create_agreement(session, data=data, principal=ADMIN)
            self.versions.append(agreement.id)

        assert self.write(go) is None
        self.seen[self.versions[0]] = "draft"

    @rule(which=st.integers(0, 5))
    def propose(self, which: int) -> None:
        agreement_id = self.pick(which)
        before = self.status(agreement_id)
        refused = self.write(lambda s: lifecycle.propose(s, agreement_id, principal=ADMIN))
        assert (refused is None) == (before == "draft"), (before, refused)
        if refused is None:
            self.proposed.add(agreement_id)

    @rule(which=st.integers(0, 5), party=st.integers(0, 2))
    def sign(self, which: int, party: int) -> None:
        agreement_id = self.pick(which)
        kind = self.parties[party % len(self.parties)]
        agreement = next(a for a in self.load() if a.id == agreement_id)
        had_signed = any(
            p.signed_at is not None
            for p in agreement.parties
            if p.organisation_id == self.world.ids[kind]
        )
        principal = party_principal(self.world, kind)
        refused = self.write(lambda s: lifecycle.sign(s, agreement_id, principal=principal))
        if had_signed:
            assert refused == "already_signed"
        else:
            assert (refused is None) == (agreement.status == "pending_signatures"), refused

    @precondition(lambda self: any(a.status == "pending_signatures" for a in self.load()))
    @rule(party=st.integers(0, 2))
    def sign_a_pending_version(self, party: int) -> None:
        """Signatures are where activation happens, so pending versions get signed often."""
        (pending,) = [a.id for a in self.load() if a.status == "pending_signatures"]
        self.sign(self.versions.index(pending), party)

    @rule(which=st.integers(0, 5))
    def abandon(self, which: int) -> None:
        agreement_id = self.pick(which)
        before = self.status(agreement_id)
        refused = self.write(lambda s: lifecycle.abandon(s, agreement_id, principal=ADMIN))
        assert (refused is None) == (before in ("draft", "pending_signatures")), refused

    @rule(which=st.integers(0, 5), party=st.integers(0, 2))
    def give_notice(self, which: int, party: int) -> None:
        agreement_id = self.pick(which)
        before = self.status(agreement_id)
        principal = party_principal(self.world, self.parties[party % len(self.parties)])
        refused = self.write(lambda s: lifecycle.give_notice(s, agreement_id, principal=principal))
        if before != "active":
            assert refused == "invalid_transition"

    @rule(which=st.integers(0, 5), in_days=st.integers(1, 200))
    def amend(self, which: int, in_days: int) -> None:
        agreement_id = self.pick(which)
        before = self.status(agreement_id)
        data = AgreementAmend(
            effective_from=CALENDAR.today() + timedelta(days=in_days), title="Amended"
        )

        async def go(session: AsyncSession) -> None:
            new = await drafting.amend(session, agreement_id, data=data, principal=ADMIN)
            self.versions.append(new.id)
            self.seen[new.id] = "draft"

        refused = self.write(go)
        if before != "active":
            assert refused == "invalid_transition"

    @rule(days=st.integers(0, 120))
    def advance_and_tick(self, days: int) -> None:
        self.world.run(self.world.scheduler.tick(CALENDAR.advance(days)))

    # --- invariants ------------------------------------------------------------------------

    @invariant()
    def states_are_valid_and_move_forward(self) -> None:
        for agreement in self.load():
            assert agreement.status in STATUSES
            before = self.seen.get(agreement.id, agreement.status)
            assert agreement.status == before or agreement.status in LATER[before], (
                before,
                agreement.status,
            )
            self.seen[agreement.id] = agreement.status

    @invariant()
    def never_active_without_every_signature(self) -> None:
        for agreement in self.load():
            if agreement.status in SIGNED_STATES:
                assert all(p.signed_at is not None for p in agreement.parties)

    @invariant()
    def effective_until_never_before_valid_from(self) -> None:
        for agreement in self.load():
            if agreement.effective_until is not None:
                assert agreement.effective_until >= agreement.valid_from

    @invariant()
    def each_transition_emits_its_event_once(self) -> None:
        if not self.versions:
            return
        events = self.world.run(self._events())
        for agreement in self.load():
            mine = [e for e in events if e.aggregateid == str(agreement.id)]
            counts = Counter(e.type.split(".")[3] for e in mine)
            activated = int(agreement.status in SIGNED_STATES)
            expected = {
                "proposed": int(agreement.id in self.proposed),
                "signed": sum(p.signed_at is not None for p in agreement.parties),
                "activated": activated,
                "amended": activated if agreement.supersedes_agreement_id else 0,
                "notice_given": int(agreement.notice_given_on is not None),
                "terminated": int(agreement.status == "terminated"),
                "expired": int(agreement.status == "expired"),
                "abandoned": int(agreement.status == "abandoned"),
                "expiry_upcoming": int(agreement.expiry_reminder_sent_on is not None),
            }
            assert counts == Counter({k: v for k, v in expected.items() if v}), (counts, expected)
            versions = [e.aggregateversion for e in mine]
            assert versions == sorted(set(versions))

    async def _events(self) -> list[Envelope]:
        async with self.world.db.read() as session:
            rows = (
                await session.execute(select(outbox.c.payload).order_by(outbox.c.seq))
            ).scalars()
            return [Envelope.from_bytes(payload) for payload in rows]

    def teardown(self) -> None:
        self.world.run(self.world.clear())
        CALENDAR.set(None)


def test_agreement_lifecycle_state_machine(tmp_path: Path) -> None:
    run_state_machine(Lifecycle, World(tmp_path), max_examples=30, steps=25)
