"""Rules of allocation runs: the round's coordinator computes a preview from a stored
snapshot of the round, then publishes it as confirmed bookings, in one transaction.

A run is written as ``running`` before it is solved (in its own transaction, so a second
coordinator's run meets the one-running index and gets 409 at once), solved off the
event loop, then stored as a preview. Publication rebuilds the snapshot and compares
digests: a preview whose offers, lines, quotas, agreements or policy changed is stale
(409 with what changed), and any booking refused on the way (capacity, ceiling) rolls
everything back.

Universities read the runs of a round too, each seeing its own lines' places and
explanations only; the coordinator sees every line and the report.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from datetime import date, timedelta
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from vfu_allocation import allocate
from vfu_common.db import Database
from vfu_common.errors import ProblemError
from vfu_common.pagination import PageParams, after_id, id_page
from vfu_common.principal import Principal
from vfu_common.rows import all_as, one_as
from vfu_common.utc import utcnow
from vfu_common.uuid7 import new_id

from placements.allocation import errors, events, report, snapshot, transitions
from placements.allocation.models import AllocationRun, allocation_runs
from placements.allocation.schemas import LineExplanation, PlacesOut, RunCheck, RunOut
from placements.bookings import allocated as allocated_bookings
from placements.calendar import CALENDAR
from placements.rounds import authority, gates
from placements.rounds import service as rounds
from placements.rounds.models import PlanningRound

_log = logging.getLogger(__name__)
# A run still running after this is taken to have died with its process.
RUN_DEADLINE: Final = timedelta(minutes=15)


def _require_window(round_: PlanningRound, today: date) -> None:
    """Runs and publication happen after demand and offers are due, through allocation day."""
    for gate in ("demand_due", "offers_due"):
        if today <= round_.gate_date(gate):
            raise errors.not_yet(round_.id, gate, round_.gate_date(gate))
    gates.require_open(round_, "allocation", today)


async def _load_run(
    session: AsyncSession, round_id: uuid.UUID, run_id: uuid.UUID, *, for_update: bool = False
) -> AllocationRun:
    stmt = select(allocation_runs).where(
        allocation_runs.c.id == run_id, allocation_runs.c.round_id == round_id
    )
    if for_update:
        stmt = stmt.with_for_update()
    run = one_as(AllocationRun, await session.execute(stmt))
    if run is None:
        raise errors.run_not_found(run_id)
    return run


async def _begin(db: Database, round_id: uuid.UUID, principal: Principal) -> AllocationRun:
    async with db.write() as session:
        round_ = await rounds.load(session, round_id)
        authority.require_manager(principal, round_)
        _require_window(round_, CALENDAR.today())
        now = utcnow()
        await transitions.fail_overdue(session, round_id, now=now)
        snap = await snapshot.build(session, round_)
        values = transitions.started(
            {
                "id": new_id(),
                "round_id": round_id,
                "policy_version": snap["policy_version"],
                "seed": snap["seed"],
                "input_digest": snapshot.digest(snap),
                "input_snapshot": snapshot.canonical(snap),
                "started_by": principal.subject,
                "started_at": now,
                "deadline_at": now + RUN_DEADLINE,
            }
        )
        try:
            await session.execute(allocation_runs.insert(), values)
        except IntegrityError as exc:  # the one-running index: another run is computing
            raise errors.in_progress(round_id) from exc
        return await _load_run(session, round_id, values["id"])


def solve(snap: snapshot.Snapshot) -> tuple[str, str]:
    """The stored result and report of a snapshot (CPU-bound: run it off the loop)."""
    allocation = allocate(snapshot.instance(snap))
    result = report.result_of(allocation)
    return report.dumps(result), report.dumps(report.report_of(snap, result, allocation))


async def run_preview(db: Database, round_id: uuid.UUID, *, principal: Principal) -> AllocationRun:
    """Compute a preview of the round's allocation from a snapshot of it taken now.

    Raises:
        ProblemError: 404; 403 ``not_round_owner``; 409 ``allocation_not_open``,
            ``round_gate_closed``, ``allocation_in_progress``.
    """
    run = await _begin(db, round_id, principal)
    try:
        result, run_report = await asyncio.to_thread(solve, json.loads(run.input_snapshot))
    except Exception as exc:
        _log.exception("allocation run %s failed", run.id)
        async with db.write() as session:
            await transitions.failed(
                session, run.id, error=f"{type(exc).__name__}: {exc}", now=utcnow()
            )
            return await _load_run(session, round_id, run.id)
    async with db.write() as session:
        await transitions.solved(session, run.id, result=result, report=run_report, now=utcnow())
        return await _load_run(session, round_id, run.id)


async def publish(
    session: AsyncSession, round_id: uuid.UUID, run_id: uuid.UUID, *, principal: Principal
) -> AllocationRun:
    """Publish a preview: its bookings, confirmed, in this transaction, or nothing.

    Raises:
        ProblemError: 404; 403; 409 ``allocation_not_publishable``,
            ``allocation_already_published``, ``allocation_stale`` (with what changed),
            ``allocation_not_open``, ``round_gate_closed``.
    """
    round_ = await rounds.load(session, round_id, for_update=True)
    authority.require_manager(principal, round_)
    _require_window(round_, CALENDAR.today())
    run = await _load_run(session, round_id, run_id, for_update=True)
    if run.status == transitions.PUBLISHED:
        return run  # published already: publishing again changes nothing
    if run.status != transitions.PREVIEW:
        raise errors.not_publishable(run_id, run.status)
    if await _published_run(session, round_id) is not None:
        raise errors.already_published(round_id)
    stored = json.loads(run.input_snapshot)
    fresh = await snapshot.build(session, round_)
    if snapshot.digest(fresh) != run.input_digest:
        raise errors.stale(run_id, snapshot.changes(stored, fresh))
    now = utcnow()
    lines = {line["id"]: line for line in stored["lines"]}
    agreement_of = {(p["line"], p["offer"]): p["agreement_id"] for p in stored["pairs"]}
    result = json.loads(run.result or "{}")
    made = 0
    for line_id, offer_id, places in result["places"]:
        line = lines[line_id]
        wanted = allocated_bookings.AllocatedPlaces(
            offer_id=uuid.UUID(offer_id),
            university_id=uuid.UUID(line["university_id"]),
            agreement_id=uuid.UUID(agreement_of[(line_id, offer_id)]),
            places=places,
            course_code=line["course_code"],
            course_instance=line["course_instance"] or round_.term,
        )
        try:
            await allocated_bookings.book(
                session, wanted, round_id=round_id, subject=principal.subject, now=now
            )
        except ProblemError as exc:  # pragma: no cover - the digest check saw the same rows
            raise errors.stale(run_id, {"booking": exc.code, "offer": offer_id}) from exc
        made += 1
    if not await transitions.published(session, run_id, by=principal.subject, now=now):
        raise errors.not_publishable(run_id, run.status)  # pragma: no cover - row locked
    published = await _load_run(session, round_id, run_id)
    await events.emit_published(session, round_, published, stored, result, bookings=made)
    return published


async def _published_run(session: AsyncSession, round_id: uuid.UUID) -> uuid.UUID | None:
    stmt = select(allocation_runs.c.id).where(
        allocation_runs.c.round_id == round_id,
        allocation_runs.c.status == transitions.PUBLISHED,
    )
    found: uuid.UUID | None = (await session.execute(stmt)).scalar()
    return found


async def recompute(session: AsyncSession, round_id: uuid.UUID, run_id: uuid.UUID) -> RunCheck:
    """Solve a run's stored snapshot again and compare the result byte for byte."""
    run = await _load_run(session, round_id, run_id)
    if run.result is None:
        raise errors.no_explanation(run_id)
    result, _ = await asyncio.to_thread(solve, json.loads(run.input_snapshot))
    return RunCheck(run_id=run.id, input_digest=run.input_digest, identical=result == run.result)


# --- reading ---------------------------------------------------------------------------


async def read_round(session: AsyncSession, round_id: uuid.UUID) -> PlanningRound:
    """The round, or 404."""
    return await rounds.load(session, round_id)


async def get_run(session: AsyncSession, round_id: uuid.UUID, run_id: uuid.UUID) -> AllocationRun:
    """A run of the round, or 404."""
    return await _load_run(session, round_id, run_id)


async def list_runs(
    session: AsyncSession, round_id: uuid.UUID, page: PageParams
) -> tuple[list[AllocationRun], str | None]:
    """The round's runs in the order they were started."""
    await rounds.load(session, round_id)
    stmt = select(allocation_runs).where(allocation_runs.c.round_id == round_id)
    after = after_id(page)
    if after is not None:
        stmt = stmt.where(allocation_runs.c.id > after)
    stmt = stmt.order_by(allocation_runs.c.id).limit(page.limit + 1)
    return id_page(all_as(AllocationRun, await session.execute(stmt)), page.limit)


def _own_lines(principal: Principal, round_: PlanningRound, snap: dict[str, Any]) -> set[str]:
    """The lines whose places and explanations the caller may see."""
    if authority.may_manage(principal, round_) or principal.has_role("admin"):
        return {line["id"] for line in snap["lines"]}
    mine = str(principal.organisation_id)
    if not principal.has_role("university"):
        return set()
    return {line["id"] for line in snap["lines"] if line["university_id"] == mine}


def _own_offers(principal: Principal, snap: dict[str, Any]) -> set[str]:
    """The offers of a provider (whose places it is told of: its bookings to be)."""
    if not principal.has_role("provider") or principal.organisation_id is None:
        return set()
    mine = str(principal.organisation_id)
    return {offer["id"] for offer in snap["offers"] if offer["provider_id"] == mine}


def to_out(principal: Principal, round_: PlanningRound, run: AllocationRun) -> RunOut:
    """The API view of a run for ``principal``: the places of its own lines (a
    university) or on its own offers (a provider); the report for the coordinator only."""
    snap = json.loads(run.input_snapshot)
    visible = _own_lines(principal, round_, snap)
    offers = _own_offers(principal, snap)
    result = json.loads(run.result) if run.result else {"places": []}
    manager = authority.may_manage(principal, round_)
    return RunOut(
        id=run.id,
        round_id=run.round_id,
        status=run.status,
        policy_version=run.policy_version,
        seed=run.seed,
        input_digest=run.input_digest,
        places=[
            PlacesOut(demand_line_id=uuid.UUID(d), offer_id=uuid.UUID(s), places=n)
            for d, s, n in result["places"]
            if d in visible or s in offers
        ],
        report=_summary(json.loads(run.report)) if manager and run.report else None,
        error=run.error,
        started_at=run.started_at,
        finished_at=run.finished_at,
        published_at=run.published_at,
        version=run.version,
    )


def _summary(full: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in full.items() if k != "lines"}


def explanations(
    principal: Principal, round_: PlanningRound, run: AllocationRun
) -> list[LineExplanation]:
    """Each visible line's explanation (own lines; every line for the coordinator)."""
    if run.report is None:
        raise errors.no_explanation(run.id)
    visible = _own_lines(principal, round_, json.loads(run.input_snapshot))
    return [
        LineExplanation.model_validate(entry)
        for entry in json.loads(run.report)["lines"]
        if entry["line_id"] in visible
    ]
