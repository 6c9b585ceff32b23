"""The supervisor gate: who may supervise a confirmed booking's students, and releases.

An assignment is accepted only when, in this order:

1. the booking is confirmed or in progress (``booking_not_confirmed``);
2. the supervisor is in this service's projection (``unknown_supervisor``: the event may
   not have arrived yet), still registered (``supervisor_deregistered``), employed by the
   offer's provider (``supervisor_not_employed_by_provider``), at the offer's unit when
   they name units (``supervisor_not_at_unit``) and of the booking's profession
   (``profession_mismatch``);
3. qualified under the stricter of their profession's default level and the booking's
   agreement's supervision requirement (``supervisor_not_qualified``, the detail led by
   the qualification rule's reason; an unknown level fails closed);
4. not already on the booking (``supervisor_already_assigned``), the booking has that
   many confirmed places without a supervisor (``booking_fully_supervised``), and the
   supervisor's students in overlapping placements stay within capacity: two on a
   peer_2_to_1 offer, else their maximum (``supervisor_over_capacity``).

Concurrency: the checks of 4 count rows other transactions may be adding, and the
capacity rule is a sum over other bookings' dates that no CHECK or UNIQUE can state. So
each assignment first locks the booking row and then the supervisor's projection row
(``SELECT ... FOR UPDATE`` on PostgreSQL): assignments of one supervisor, or to one
booking, run one after another, and always take the two locks in that order, so they
cannot deadlock. On SQLite ``Database.write`` begins every write transaction with
``BEGIN IMMEDIATE`` on its single writer connection, so write transactions are already
serialised and the ``FOR UPDATE`` (which SQLite does not have) is left out by SQLAlchemy.
"""

from __future__ import annotations

import uuid
from typing import Final

from sqlalchemy.ext.asyncio import AsyncSession
from vfu_common.events.contracts import AgreementTermsV1
from vfu_common.idempotency import IdempotencyGuard, StoredResponse
from vfu_common.pagination import PageParams, after_id, id_page
from vfu_common.principal import Principal
from vfu_common.utc import utcnow
from vfu_common.uuid7 import new_id
from vfu_domain.qualification import evaluate, stricter_level

from placements.bookings import access
from placements.bookings import repository as bookings_repository
from placements.bookings.models import Booking
from placements.bookings.transitions import SUPERVISABLE_STATUSES
from placements.supervision import errors, repository, transitions
from placements.supervision.events import emit_assigned, emit_released
from placements.supervision.models import Assignment, ProjectedSupervisor
from placements.supervision.release import RELEASED
from placements.supervision.schemas import AssignmentCreate, AssignmentOut

ASSIGN_OPERATION: Final = "POST /api/v1/placements/bookings/{booking_id}/supervisors"
PEER_MODEL: Final = "peer_2_to_1"
# Two students per supervisor in the peer-learning model.
PEER_CAPACITY: Final = 2


# --- assigning -------------------------------------------------------------------------


async def assign(
    session: AsyncSession,
    booking_id: uuid.UUID,
    *,
    data: AssignmentCreate,
    principal: Principal,
    idempotency_key: str | None,
) -> tuple[StoredResponse, bool]:
    """Assign ``data.supervisor_id`` to ``data.students`` of the booking, through the gate.

    Returns the response and whether it is an ``Idempotency-Key`` replay.

    Raises:
        ProblemError: 404 ``booking_not_found``; 403 ``not_provider``; the gate's 409s
            (module docstring); 422/409 from the idempotency guard.
    """
    booking = access.require_visible(
        principal, await repository.lock_booking(session, booking_id), booking_id
    )
    access.require_provider(principal, booking)
    guard = IdempotencyGuard.for_request(
        principal.subject,
        idempotency_key,
        ASSIGN_OPERATION.format(booking_id=booking_id),
        data.model_dump(mode="json"),
    )
    if (stored := await guard.claim(session)) is not None:
        return stored, True
    if booking.status not in SUPERVISABLE_STATUSES:
        raise errors.booking_not_confirmed(booking_id, booking.status)
    supervisor = await repository.lock_supervisor(session, data.supervisor_id)
    if supervisor is None:
        raise errors.unknown_supervisor(data.supervisor_id)
    await _require_suitable(session, supervisor, booking)
    await _require_qualified(session, supervisor, booking)
    await _require_room(session, supervisor, booking, data.students)
    row = await _write_assignment(session, booking, data, principal)
    body = AssignmentOut.from_row(row).model_dump_json()
    await guard.remember(session, 201, body)
    return StoredResponse(201, body), False


async def _require_suitable(
    session: AsyncSession, supervisor: ProjectedSupervisor, booking: Booking
) -> None:
    """Registered, employed by the provider, at the unit, of the profession."""
    supervisor_id = supervisor.supervisor_id
    if not supervisor.active:
        raise errors.supervisor_deregistered(supervisor_id)
    if supervisor.employer_id != booking.provider_id:
        raise errors.not_employed_by_provider(supervisor_id, booking.provider_id)
    units = await repository.supervisor_unit_ids(session, supervisor_id)
    if units and booking.unit_id not in units:
        raise errors.not_at_unit(supervisor_id, booking.unit_id)
    if supervisor.profession_code != booking.profession_code:
        raise errors.profession_mismatch(supervisor.profession_code, booking.profession_code)


async def _require_qualified(
    session: AsyncSession, supervisor: ProjectedSupervisor, booking: Booking
) -> None:
    """Qualified under the stricter of the default level and the agreement's requirement."""
    required = required_level(supervisor.required_level, await _agreement_level(session, booking))
    decision = evaluate(
        licence_verified=supervisor.licence_verified,
        level_achieved=supervisor.level_achieved,
        required_level=required,
    )
    if not decision.qualified:
        raise errors.SupervisorNotQualifiedError(decision.reason, decision.detail, required)


def required_level(default: str, agreement_level: str | None) -> str:
    """The level a placement requires; an agreement level the rule does not know is
    returned as is, so ``evaluate`` refuses it (``unknown_requirement_level``)."""
    try:
        return stricter_level(default, agreement_level)
    except ValueError:
        assert agreement_level is not None  # only an agreement level can be unknown
        return agreement_level


async def _agreement_level(session: AsyncSession, booking: Booking) -> str | None:
    """The supervision requirement of the agreement version that covered the booking.

    That version is always projected (the booking gate read it); a booking without one
    falls back to the supervisor's default level.
    """
    agreement_id = booking.agreement_id
    if agreement_id is None:
        return None
    text = await repository.agreement_terms_text(session, agreement_id)
    if text is None:
        return None
    return AgreementTermsV1.model_validate_json(text).supervision_requirement_level


async def _require_room(
    session: AsyncSession, supervisor: ProjectedSupervisor, booking: Booking, students: int
) -> None:
    """Not on the booking yet; places left to supervise; within the supervisor's capacity."""
    supervisor_id = supervisor.supervisor_id
    if await repository.is_active_on(session, booking.id, supervisor_id):
        raise errors.already_assigned(supervisor_id, booking.id)
    unsupervised = booking.confirmed_places - await repository.booking_load(session, booking.id)
    if students > unsupervised:
        raise errors.booking_fully_supervised(students, max(unsupervised, 0))
    model = booking.supervision_model
    capacity = PEER_CAPACITY if model == PEER_MODEL else supervisor.max_concurrent_students
    load = await repository.overlapping_load(
        session, supervisor_id, start=booking.start_date, end=booking.end_date
    )
    if load + students > capacity:
        raise errors.over_capacity(students, load, capacity, model)


async def _write_assignment(
    session: AsyncSession, booking: Booking, data: AssignmentCreate, principal: Principal
) -> Assignment:
    row = transitions.opened(
        {
            "id": new_id(),
            "booking_id": booking.id,
            "supervisor_id": data.supervisor_id,
            "students": data.students,
            "created_by": principal.subject,
            "created_at": utcnow(),
        }
    )
    await repository.insert_assignment(session, row)
    await emit_assigned(session, row, booking)
    return row


# --- reading ---------------------------------------------------------------------------


async def list_assignments(
    session: AsyncSession, booking_id: uuid.UUID, *, principal: Principal, page: PageParams
) -> tuple[list[AssignmentOut], str | None]:
    """A page of the booking's assignments (active and released), oldest first."""
    booking = await bookings_repository.get_booking(session, booking_id)
    access.require_visible(principal, booking, booking_id)
    rows = await repository.page_of_booking(
        session, booking_id, after=after_id(page), limit=page.limit + 1
    )
    items, next_cursor = id_page(rows, page.limit)
    return [AssignmentOut.from_row(row) for row in items], next_cursor


# --- releasing -------------------------------------------------------------------------


async def release(
    session: AsyncSession,
    booking_id: uuid.UUID,
    assignment_id: uuid.UUID,
    *,
    principal: Principal,
) -> AssignmentOut:
    """The provider ends an assignment (reason ``released``, no student-weeks).

    Raises:
        ProblemError: 404 ``booking_not_found`` / ``assignment_not_found``; 403
            ``not_provider``; 409 ``assignment_not_active`` when already released.
    """
    booking = access.require_visible(
        principal, await repository.lock_booking(session, booking_id), booking_id
    )
    access.require_provider(principal, booking)
    if await repository.get_assignment(session, booking_id, assignment_id) is None:
        raise errors.assignment_not_found(assignment_id)
    released = await transitions.release(
        session, assignment_id=assignment_id, reason=RELEASED, weeks=0, now=utcnow()
    )
    if not released:
        raise errors.assignment_not_active(assignment_id)
    await emit_released(session, released[0], booking)
    return AssignmentOut.from_row(released[0])
