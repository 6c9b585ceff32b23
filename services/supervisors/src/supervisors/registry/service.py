"""Rules of the supervisor registry: registration, changes, deregistration, reading.

Every command runs in the caller's transaction: the row, its units, the recomputed
qualification and the events (``supervisor.registered`` / ``supervisor.changed``, and
``qualification.changed`` from the qualification feature) commit together or not at all.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from typing import Any, Final

from pydantic import ValidationError
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from vfu_common.errors import ProblemError, validation_problem
from vfu_common.events.contracts import SUPERVISOR_CHANGED, SUPERVISOR_REGISTERED
from vfu_common.pagination import PageParams, after_id, id_page
from vfu_common.principal import Principal
from vfu_common.rows import values_of
from vfu_common.utc import utcnow
from vfu_common.uuid7 import new_id
from vfu_domain.reference import professions

from supervisors.projections.assignments import Load, loads, universities_with_access
from supervisors.qualification.levels import RequiredLevels
from supervisors.qualification.service import assess, refresh_qualification
from supervisors.registry import errors, repository
from supervisors.registry.access import View, is_employer, may_manage, view_of
from supervisors.registry.events import emit_supervisor_event
from supervisors.registry.models import Supervisor
from supervisors.registry.schemas import (
    SupervisionHistory,
    SupervisorCreate,
    SupervisorFields,
    SupervisorOut,
    SupervisorSummary,
    SupervisorUpdate,
)

_FIELDS: Final = tuple(name for name in SupervisorFields.model_fields if name != "unit_ids")
# Changes other services see in SupervisorV1 (the rest is private to this service).
_EVENT_COLUMNS: Final = frozenset({"max_concurrent_students", "licence_verified", "active"})


# --- views ---------------------------------------------------------------------------------


def to_view(
    row: Supervisor, unit_ids: Sequence[uuid.UUID], load: Load | None, view: View
) -> SupervisorOut | SupervisorSummary:
    """The API view of a stored supervisor: all fields, or without personal ones."""
    load = load or Load()
    values = values_of(row) | {
        "unit_ids": list(unit_ids),
        "roles": json.loads(row.roles),
        "current_students": load.current_students,
        "history": SupervisionHistory(
            placements_supervised=load.placements_supervised, student_weeks=load.student_weeks
        ),
    }
    if view == "full":
        return SupervisorOut.model_validate(values)
    return SupervisorSummary.model_validate(
        {name: values[name] for name in SupervisorSummary.model_fields}
    )


async def view(
    session: AsyncSession, row: Supervisor, view: View
) -> SupervisorOut | SupervisorSummary:
    """``to_view`` with the units and load read from the database."""
    units = await repository.unit_ids(session, row.id)
    load = (await loads(session, [row.id])).get(row.id)
    return to_view(row, units, load, view)


# --- access --------------------------------------------------------------------------------


def _employer_of_new_supervisor(principal: Principal, requested: uuid.UUID | None) -> uuid.UUID:
    """Providers register their own staff; an admin names the employer."""
    own = principal.organisation_id if principal.has_role("provider") else None
    if principal.has_role("admin"):
        employer = requested or own
        if employer is None:
            raise errors.employer_id_required()
        return employer
    if own is None:
        raise errors.no_organisation()
    if requested is not None and requested != own:
        raise errors.not_employer()
    return own


async def _load_visible(
    session: AsyncSession, supervisor_id: uuid.UUID, principal: Principal
) -> tuple[Supervisor, View]:
    """The supervisor and the caller's view of it; 404 when the caller may not see it."""
    row = await repository.get(session, supervisor_id)
    if row is None:
        raise errors.supervisor_not_found(supervisor_id)
    seen = await view_of(session, principal, row)
    if seen is None:
        raise errors.supervisor_not_found(supervisor_id)
    return row, seen


async def _load_managed(
    session: AsyncSession, supervisor_id: uuid.UUID, principal: Principal
) -> Supervisor:
    """The supervisor, locked, for its employer or an admin (others: 404); 409 once deregistered."""
    row = await repository.get(session, supervisor_id, for_update=True)
    if row is None or not may_manage(principal, row):
        raise errors.supervisor_not_found(supervisor_id)
    if not row.active:
        raise errors.supervisor_deregistered(supervisor_id)
    return row


# --- checks --------------------------------------------------------------------------------


def _require_known_profession(code: str) -> None:
    if code not in professions():
        raise ProblemError(
            422,
            "unknown_profession",
            "Unknown profession",
            f"{code!r} is not a licensed-profession code; use one of the reference professions.",
            errors=[
                {
                    "loc": ["body", "profession_code"],
                    "msg": "not a licensed-profession code",
                    "type": "unknown_profession",
                }
            ],
        )


async def _refuse_taken_identifiers(
    session: AsyncSession,
    employer_id: uuid.UUID,
    values: Mapping[Any, Any],
    *,
    supervisor_id: uuid.UUID | None = None,
) -> None:
    """Clear 409s before the write; the UNIQUE constraints catch concurrent requests."""
    hsa_id = values.get("hsa_id")
    if hsa_id is not None and await repository.hsa_id_used_by_other(
        session, hsa_id, supervisor_id=supervisor_id
    ):
        raise errors.hsa_id_taken(hsa_id)
    reference = values.get("employer_reference")
    if reference is not None and await repository.reference_used_by_other(
        session, employer_id, reference, supervisor_id=supervisor_id
    ):
        raise errors.employer_reference_taken(reference)


def _taken_problem(exc: IntegrityError, values: Mapping[Any, Any]) -> ProblemError:
    """The 409 for a UNIQUE violation that slipped past the checks (a concurrent request)."""
    if "hsa_id" in str(exc.orig):
        return errors.hsa_id_taken(str(values.get("hsa_id")))
    return errors.employer_reference_taken(str(values.get("employer_reference")))


def _storage(fields: Mapping[Any, Any]) -> dict[str, Any]:
    """Column values of validated supervisor fields (roles as JSON text)."""
    values = {name: fields[name] for name in _FIELDS if name in fields}
    if "roles" in values:
        values["roles"] = json.dumps(values["roles"])
    return values


# --- use cases -----------------------------------------------------------------------------


async def register_supervisor(
    session: AsyncSession, *, data: SupervisorCreate, principal: Principal, levels: RequiredLevels
) -> Supervisor:
    """Store a new supervisor with their qualification; emit ``supervisor.registered``.

    Raises:
        ProblemError: 422 ``unknown_profession`` / ``employer_id_required``; 403
            ``not_employer``; 409 ``hsa_id_taken`` / ``employer_reference_taken``.
    """
    employer_id = _employer_of_new_supervisor(principal, data.employer_id)
    _require_known_profession(data.profession_code)
    fields = data.model_dump()
    await _refuse_taken_identifiers(session, employer_id, fields)
    now = utcnow()
    supervisor_id = new_id()
    qualification = assess(
        licence_verified=data.licence_verified,
        level_achieved=None,
        required_level=levels.for_profession(data.profession_code),
        previous=None,
        now=now,
    )
    values = _storage(fields) | qualification
    try:
        await repository.add(
            session,
            values
            | {
                "id": supervisor_id,
                "employer_id": employer_id,
                "profession_code": data.profession_code,
                "active": True,
                "version": 1,
                "created_at": now,
                "updated_at": now,
            },
        )
    except IntegrityError as exc:
        raise _taken_problem(exc, fields) from exc
    await repository.replace_units(session, supervisor_id, data.unit_ids)
    # A new supervisor has no training yet; kept so the rule has exactly one home.
    await refresh_qualification(session, supervisor_id, levels)
    row = await repository.get(session, supervisor_id)
    assert row is not None
    await emit_supervisor_event(session, SUPERVISOR_REGISTERED, row, data.unit_ids)
    return row


async def update_supervisor(
    session: AsyncSession,
    supervisor_id: uuid.UUID,
    *,
    data: SupervisorUpdate,
    principal: Principal,
    levels: RequiredLevels,
) -> Supervisor:
    """Change a supervisor (employer or admin); qualification follows in the same transaction.

    The update is merged into the stored state and validated as a whole (a licence date
    needs a verified licence). The qualification is recomputed, which also applies a
    requirement level configured since the last change. ``supervisor.changed`` is emitted
    when a field other services see changed (units, capacity, licence).

    Raises:
        ProblemError: 404 ``supervisor_not_found``; 409 ``supervisor_deregistered``,
            ``hsa_id_taken``, ``employer_reference_taken``; 422 for a merged state that
            breaks a rule.
    """
    row = await _load_managed(session, supervisor_id, principal)
    stored_units = await repository.unit_ids(session, supervisor_id)
    stored = {name: getattr(row, name) for name in _FIELDS} | {
        "roles": json.loads(row.roles),
        "unit_ids": stored_units,
    }
    try:
        merged = SupervisorFields.model_validate(stored | data.changes()).model_dump()
    except ValidationError as exc:
        raise validation_problem(exc) from exc
    values = {k: v for k, v in _storage(merged).items() if v != getattr(row, k)}
    units_changed = merged["unit_ids"] != stored_units
    await _refuse_taken_identifiers(session, row.employer_id, values, supervisor_id=supervisor_id)
    if values or units_changed:
        try:
            await repository.change(session, supervisor_id, values | {"updated_at": utcnow()})
        except IntegrityError as exc:
            raise _taken_problem(exc, values) from exc
    if units_changed:
        await repository.replace_units(session, supervisor_id, merged["unit_ids"])
    await refresh_qualification(session, supervisor_id, levels)
    updated = await repository.get(session, supervisor_id)
    assert updated is not None
    if units_changed or _EVENT_COLUMNS & values.keys():
        await emit_supervisor_event(session, SUPERVISOR_CHANGED, updated, merged["unit_ids"])
    return updated


async def deregister_supervisor(
    session: AsyncSession, supervisor_id: uuid.UUID, *, principal: Principal
) -> Supervisor:
    """Mark the supervisor inactive (kept for the history); emit ``supervisor.changed``.

    Raises:
        ProblemError: 404 ``supervisor_not_found``; 409 ``supervisor_deregistered``.
    """
    await _load_managed(session, supervisor_id, principal)
    await repository.change(session, supervisor_id, {"active": False, "updated_at": utcnow()})
    row = await repository.get(session, supervisor_id)
    assert row is not None
    units = await repository.unit_ids(session, supervisor_id)
    await emit_supervisor_event(session, SUPERVISOR_CHANGED, row, units)
    return row


async def get_supervisor(
    session: AsyncSession, supervisor_id: uuid.UUID, *, principal: Principal
) -> SupervisorOut | SupervisorSummary:
    """One supervisor as the caller may see it (404 when not at all)."""
    row, seen = await _load_visible(session, supervisor_id, principal)
    return await view(session, row, seen)


def _list_scope(principal: Principal) -> repository.ListFilter:
    """The privacy part of a list filter: admins and coordinators list every supervisor."""
    if principal.has_role("admin", "coordinator"):
        return repository.ListFilter()
    org = principal.organisation_id
    if org is None:
        return repository.ListFilter(nothing=True)
    return repository.ListFilter(
        visible_employer_id=org if principal.has_role("provider") else None,
        visible_university_id=org if principal.has_role("university") else None,
        nothing=not principal.has_role("provider", "university"),
    )


def _row_view(principal: Principal, row: Supervisor, universities: set[uuid.UUID]) -> View:
    """The view of a listed row (the scope already removed what the caller may not see)."""
    if principal.has_role("admin") or is_employer(principal, row.employer_id):
        return "full"
    if principal.has_role("university") and principal.organisation_id in universities:
        return "full"
    return "summary"


async def list_supervisors(
    session: AsyncSession,
    *,
    principal: Principal,
    query: repository.ListFilter,
    page: PageParams,
) -> tuple[list[SupervisorOut | SupervisorSummary], str | None]:
    """A page of the supervisors the caller may see, narrowed by ``query``."""
    scope = _list_scope(principal)
    where = repository.ListFilter(
        employer_id=query.employer_id,
        unit_id=query.unit_id,
        profession_code=query.profession_code,
        qualified=query.qualified,
        visible_employer_id=scope.visible_employer_id,
        visible_university_id=scope.visible_university_id,
        nothing=scope.nothing,
    )
    rows = await repository.page(session, where=where, after=after_id(page), limit=page.limit + 1)
    items, cursor = id_page(rows, page.limit)
    ids = [row.id for row in items]
    units = await repository.unit_ids_of_many(session, ids)
    load = await loads(session, ids)
    access = await universities_with_access(session, ids)
    views = [
        to_view(
            row,
            units[row.id],
            load.get(row.id),
            _row_view(principal, row, access.get(row.id, set())),
        )
        for row in items
    ]
    return views, cursor
