"""Rules of planning rounds: opening one, publishing a new policy version, reading, and
announcing the gates the clock has passed.

A round's gates close by the calendar (``rounds.gates``); the lifecycle scheduler only
announces each passage once, as an event, for those who want to be told.
"""

from __future__ import annotations

import json
import uuid
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession
from vfu_common.pagination import PageParams, after_id, id_page
from vfu_common.principal import Principal
from vfu_common.utc import utcnow
from vfu_common.uuid7 import new_id

from placements.calendar import CALENDAR
from placements.rounds import authority, errors, events, gates, repository
from placements.rounds.models import GATE_COLUMNS, GATES, PlanningRound
from placements.rounds.schemas import Gates, Policy, PolicyOut, RoundCreate, RoundOut, Scope


async def load(
    session: AsyncSession, round_id: uuid.UUID, *, for_update: bool = False
) -> PlanningRound:
    """A round, or 404 ``round_not_found``."""
    found = await repository.get(session, round_id, for_update=for_update)
    if found is None:
        raise errors.round_not_found(round_id)
    return found


def _policy_json(policy: Policy) -> str:
    return json.dumps(policy.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))


async def open_round(
    session: AsyncSession, *, data: RoundCreate, principal: Principal
) -> PlanningRound:
    """Open a round for the caller's organisation (or the admin's ``owner_id``).

    Raises:
        ProblemError: 403 ``outside_round_authority`` for a scope entry the caller does
            not coordinate; 422 ``unknown_scope_entry``, ``gate_in_past``,
            ``owner_id_required``.
    """
    owner_id = authority.owner_of_new_round(principal, data.owner_id)
    entries = data.scope.entries()
    await authority.check_scope(session, principal, owner_id, entries)
    today = CALENDAR.today()
    for gate in GATES:
        if data.gates.of(gate) < today:
            raise errors.gate_in_past(gate, data.gates.of(gate))
    now = utcnow()
    round_id = new_id()
    values = {
        "id": round_id,
        "owner_id": owner_id,
        "term": data.term,
        "title": data.title,
        "mode": data.mode,
        **{GATE_COLUMNS[gate]: data.gates.of(gate) for gate in GATES},
        "policy_version": 1,
        "version": 1,
        "created_at": now,
        "updated_at": now,
    }
    body = _policy_json(data.policy)
    await repository.add(session, values, entries, body, principal.subject)
    opened = await load(session, round_id)
    await events.emit_opened(session, opened, entries)
    await events.emit_policy_published(session, opened, 1, body, aggregate_version=1)
    return opened


async def publish_policy(
    session: AsyncSession, round_id: uuid.UUID, *, policy: Policy, principal: Principal
) -> PlanningRound:
    """Publish a new version of the round's policy, up to the day before allocation.

    Raises:
        ProblemError: 404; 403 ``not_round_owner``; 409 ``round_gate_closed`` from the
            allocation day on.
    """
    round_ = await load(session, round_id, for_update=True)
    authority.require_manager(principal, round_)
    gates.require_open(round_, "allocation", CALENDAR.today(), before=True)
    body = _policy_json(policy)
    current = json.loads((await repository.policy(session, round_id, round_.policy_version)).body)
    if current == json.loads(body):
        return round_  # the same policy again: nothing new to publish
    version = round_.policy_version + 1
    now = utcnow()
    await repository.add_policy(session, round_id, version, body, principal.subject, now)
    if not await repository.move_to_policy(session, round_, version, now):
        raise errors.round_changed(round_id)
    await events.emit_policy_published(
        session, round_, version, body, aggregate_version=round_.version + 1
    )
    return await load(session, round_id)


async def list_rounds(
    session: AsyncSession, *, term: str | None, page: PageParams
) -> tuple[list[PlanningRound], str | None]:
    """A page of rounds in opening order (rounds are public to every non-portal role)."""
    rows = await repository.page(session, term=term, after=after_id(page), limit=page.limit + 1)
    return id_page(rows, page.limit)


async def to_out(session: AsyncSession, round_: PlanningRound) -> RoundOut:
    """The API view of a stored round, with its gates as of today."""
    return (await to_outs(session, [round_]))[0]


async def to_outs(session: AsyncSession, rounds: list[PlanningRound]) -> list[RoundOut]:
    """API views of stored rounds (one scope query for all of them)."""
    scopes = await repository.scope_of(session, [r.id for r in rounds])
    current = await repository.current_policies(session, rounds)
    today = CALENDAR.today()
    out = []
    for round_ in rounds:
        state = events.round_state(round_, scopes[round_.id])
        stored = current[round_.id]
        out.append(
            RoundOut(
                id=round_.id,
                owner_id=round_.owner_id,
                term=round_.term,
                title=round_.title,
                mode=round_.mode,
                scope=Scope.model_validate(state["scope"]),
                gates=Gates.model_validate(state["gates"]),
                gates_passed=gates.passed(round_, today),
                next_gate=gates.current_gate(round_, today),
                policy=PolicyOut.model_validate(
                    {
                        **json.loads(stored.body),
                        "version": stored.version,
                        "published_at": stored.published_at,
                    }
                ),
                version=round_.version,
                created_at=round_.created_at,
                updated_at=round_.updated_at,
            )
        )
    return out


async def policy_versions(session: AsyncSession, round_id: uuid.UUID) -> list[PolicyOut]:
    """Every published version of the round's policy, oldest first."""
    await load(session, round_id)
    return [
        PolicyOut.model_validate(
            {**json.loads(row.body), "version": row.version, "published_at": row.published_at}
        )
        for row in await repository.policies(session, round_id)
    ]


# --- by date (the lifecycle scheduler) -------------------------------------------------


async def due_gate_announcements(session: AsyncSession, today: date) -> list[uuid.UUID]:
    """Rounds with a passed gate not yet announced."""
    return await repository.with_unannounced_gates(session, today)


async def announce_passed_gates(session: AsyncSession, round_id: uuid.UUID, *, today: date) -> bool:
    """Record and announce each gate of the round that ``today`` has passed, once; False
    when there was none left (another scheduler announced them)."""
    round_ = await load(session, round_id, for_update=True)
    announced = False
    now = utcnow()
    for gate in gates.passed(round_, today):
        if await repository.record_passage(session, round_id, gate, round_.gate_date(gate), now):
            version = await repository.bump_version(session, round_id, now)
            await events.emit_gate_passed(
                session, round_, gate, round_.gate_date(gate), aggregate_version=version
            )
            announced = True
    return announced
