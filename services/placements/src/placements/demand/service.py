"""Rules of demand lines: a university states what it needs of a round until demand is
due, and may change or withdraw a line until then.

A university sees its own lines; the round's coordinator (and admins) see every line;
everyone who reads rounds sees the totals, never one university's lines. Another
university's line does not exist to a university (404), as bookings do not.
"""

from __future__ import annotations

import json
import uuid
from typing import Any, Final

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession
from vfu_common.errors import validation_problem
from vfu_common.events.contracts import DEMAND_CHANGED, DEMAND_SUBMITTED, DEMAND_WITHDRAWN
from vfu_common.pagination import PageParams, after_id, id_page
from vfu_common.principal import Principal
from vfu_common.utc import utcnow
from vfu_common.uuid7 import new_id
from vfu_domain.terms import term_window

from placements.calendar import CALENDAR
from placements.demand import errors, repository, transitions
from placements.demand.events import emit_line_event, line_state
from placements.demand.models import DemandLine
from placements.demand.schemas import (
    DemandCreate,
    DemandFields,
    DemandLineOut,
    DemandSummary,
    DemandTotal,
    DemandUpdate,
)
from placements.rounds import authority, gates
from placements.rounds import service as rounds
from placements.rounds.models import PlanningRound

_STORED: Final = tuple(name for name in DemandFields.model_fields if not name.endswith("_week"))
_LISTS: Final = ("care_settings", "municipality_codes", "county_codes")


def to_out(line: DemandLine) -> DemandLineOut:
    """The API view of a stored line."""
    return DemandLineOut.model_validate(line_state(line))


def _storage(fields: DemandFields) -> dict[str, Any]:
    values = fields.model_dump(include=set(_STORED))
    for name in _LISTS:
        values[name] = json.dumps(values[name])
    return values


def _university_of(principal: Principal, requested: uuid.UUID | None) -> uuid.UUID:
    if principal.has_role("admin"):
        if requested is None:
            raise errors.university_id_required()
        return requested
    if not principal.has_role("university") or principal.organisation_id is None:
        raise errors.not_a_university()
    if requested is not None and requested != principal.organisation_id:
        raise errors.not_a_university()
    return principal.organisation_id


def _sees_every_line(principal: Principal, round_: PlanningRound) -> bool:
    return authority.may_manage(principal, round_)


def _is_own(principal: Principal, line: DemandLine) -> bool:
    return principal.has_role("university") and principal.organisation_id == line.university_id


def in_term(round_: PlanningRound, fields: DemandFields) -> None:
    """422 ``period_outside_term`` unless the line's period lies in the round's term."""
    window = term_window(round_.term)
    start, end = fields.period()
    if not window.contains(start, end):
        raise errors.period_outside_term(round_.term, window.first_day, window.last_day, start, end)


async def _open_round(session: AsyncSession, round_id: uuid.UUID) -> PlanningRound:
    round_ = await rounds.load(session, round_id)
    gates.require_open(round_, "demand_due", CALENDAR.today())
    return round_


async def prepare_submission(
    session: AsyncSession, round_id: uuid.UUID, principal: Principal, requested: uuid.UUID | None
) -> tuple[PlanningRound, uuid.UUID]:
    """The round taking demand today and the university submitting it.

    Raises:
        ProblemError: 404 ``round_not_found``; 409 ``round_gate_closed``; 403
            ``not_a_university``; 422 ``university_id_required``.
    """
    round_ = await _open_round(session, round_id)
    return round_, _university_of(principal, requested)


async def store_lines(
    session: AsyncSession,
    round_id: uuid.UUID,
    university_id: uuid.UUID,
    lines: list[DemandCreate],
) -> list[DemandLine]:
    """Store checked lines of one university, each with its ``demand.submitted`` event."""
    now = utcnow()
    values = [
        transitions.submitted(
            {
                **_storage(line),
                "id": new_id(),
                "round_id": round_id,
                "university_id": university_id,
                "created_at": now,
                "updated_at": now,
            }
        )
        for line in lines
    ]
    if values:
        await repository.add(session, values)
    stored = [await _load(session, round_id, v["id"]) for v in values]
    for line in stored:
        await emit_line_event(session, DEMAND_SUBMITTED, line)
    return stored


async def submit(
    session: AsyncSession, round_id: uuid.UUID, *, data: DemandCreate, principal: Principal
) -> DemandLine:
    """Store a new line for the caller's university, through the day demand is due.

    Raises:
        ProblemError: as ``prepare_submission``; 422 ``period_outside_term``.
    """
    round_, university_id = await prepare_submission(
        session, round_id, principal, data.university_id
    )
    in_term(round_, data)
    return (await store_lines(session, round_id, university_id, [data]))[0]


async def _load(
    session: AsyncSession, round_id: uuid.UUID, line_id: uuid.UUID, *, for_update: bool = False
) -> DemandLine:
    line = await repository.get(session, round_id, line_id, for_update=for_update)
    if line is None:
        raise errors.demand_line_not_found(line_id)
    return line


async def _own_line_for_change(
    session: AsyncSession, round_id: uuid.UUID, line_id: uuid.UUID, principal: Principal
) -> tuple[PlanningRound, DemandLine]:
    round_ = await _open_round(session, round_id)
    line = await _load(session, round_id, line_id, for_update=True)
    if not (_is_own(principal, line) or principal.has_role("admin")):
        if _sees_every_line(principal, round_):
            raise errors.not_a_university()  # the coordinator reads lines, never edits them
        raise errors.demand_line_not_found(line_id)
    return round_, line


async def change(
    session: AsyncSession,
    round_id: uuid.UUID,
    line_id: uuid.UUID,
    *,
    data: DemandUpdate,
    principal: Principal,
) -> DemandLine:
    """Change a line (its university, through the day demand is due); the merged line is
    checked as a whole, like a new one.

    Raises:
        ProblemError: 404; 409 ``round_gate_closed``, ``demand_line_withdrawn``; 422.
    """
    round_, line = await _own_line_for_change(session, round_id, line_id, principal)
    if transitions.is_withdrawn(line):
        raise errors.line_withdrawn(line_id)
    stored = {name: value for name, value in line_state(line).items() if name in _STORED}
    try:
        merged = DemandFields.model_validate(stored | data.changes())
    except ValidationError as exc:
        raise validation_problem(exc) from exc
    in_term(round_, merged)
    values = {k: v for k, v in _storage(merged).items() if v != getattr(line, k)}
    if not values:
        return line
    if not await repository.change(session, line, {**values, "updated_at": utcnow()}):
        raise errors.demand_line_not_found(line_id)  # pragma: no cover - the row is locked
    changed = await _load(session, round_id, line_id)
    await emit_line_event(session, DEMAND_CHANGED, changed)
    return changed


async def withdraw(
    session: AsyncSession, round_id: uuid.UUID, line_id: uuid.UUID, *, principal: Principal
) -> DemandLine:
    """Withdraw a line (kept, status ``withdrawn``); withdrawing it again changes nothing."""
    _, line = await _own_line_for_change(session, round_id, line_id, principal)
    if transitions.is_withdrawn(line):
        return line
    if not await transitions.withdraw(session, line):
        raise errors.demand_line_not_found(line_id)  # pragma: no cover - the row is locked
    withdrawn = await _load(session, round_id, line_id)
    await emit_line_event(session, DEMAND_WITHDRAWN, withdrawn)
    return withdrawn


async def get_line(
    session: AsyncSession, round_id: uuid.UUID, line_id: uuid.UUID, *, principal: Principal
) -> DemandLine:
    """One line, to its university and the round's coordinator; 404 to anyone else."""
    round_ = await rounds.load(session, round_id)
    line = await _load(session, round_id, line_id)
    if _is_own(principal, line) or _sees_every_line(principal, round_):
        return line
    raise errors.demand_line_not_found(line_id)


async def list_lines(
    session: AsyncSession,
    round_id: uuid.UUID,
    *,
    principal: Principal,
    university_id: uuid.UUID | None,
    status: str | None,
    page: PageParams,
) -> tuple[list[DemandLine], str | None]:
    """A page of lines: all of them to the round's coordinator, a university's own to it."""
    round_ = await rounds.load(session, round_id)
    if not _sees_every_line(principal, round_):
        if not principal.has_role("university") or principal.organisation_id is None:
            raise errors.lines_not_visible()
        if university_id is not None and university_id != principal.organisation_id:
            return [], None  # another university's lines do not exist to this one
        university_id = principal.organisation_id
    rows = await repository.page(
        session,
        round_id,
        university_id=university_id,
        status=status,
        after=after_id(page),
        limit=page.limit + 1,
    )
    return id_page(rows, page.limit)


async def summary(
    session: AsyncSession, round_id: uuid.UUID, *, principal: Principal
) -> DemandSummary:
    """The round's active demand per profession and programme, all universities together."""
    await rounds.load(session, round_id)
    own = principal.organisation_id if principal.has_role("university") else None
    rows = await repository.totals(session, round_id, own)
    return DemandSummary(
        round_id=round_id,
        totals=[
            DemandTotal(
                profession_code=row.profession_code,
                programme_code=row.programme_code,
                lines=int(row.lines),
                students=int(row.students),
                universities=int(row.universities),
                own_students=int(row.own_students),
            )
            for row in rows
        ],
    )
