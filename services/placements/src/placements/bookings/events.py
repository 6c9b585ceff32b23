"""Booking and placement events: one payload builder from the booking row.

Every booking event is a ``BookingV1`` (the booking's full state) plus, for some types,
fields the row also holds (who cancelled, and how long before the start;
``agreement_ends_on``) or
that follows from it (``student_weeks``). Building all of them from the row in one place
keeps what consumers see identical whichever code path changed the booking.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any, Final

from sqlalchemy.ext.asyncio import AsyncSession
from vfu_common.events.contracts import PLACEMENT_COMPLETED, BookingV1, EventContract
from vfu_common.messaging.outbox import emit

from placements.bookings.models import Booking

SOURCE: Final = "/vfu/placements"
# Fields some event types add, taken from the row as it is.
_ROW_EXTRAS: Final = (
    "cancelled_by_organisation_id",
    "cancel_lead_days",
    "cancelled_late",
    "agreement_ends_on",
)
_BOOKING_FIELDS: Final = frozenset(BookingV1.model_fields) - {"booking_id", "student_count"}


def iso_weeks_spanned(start: date, end: date) -> int:
    """How many ISO weeks (Monday..Sunday) the period start..end touches."""
    first_monday = start - timedelta(days=start.weekday())
    return (end - first_monday).days // 7 + 1


def student_weeks(row: Booking, student_count: int) -> int:
    """Students times ISO weeks placed, the settlement unit .

    Students are the attached pseudonymous ids when the university reported any, else the
    confirmed places: a place held for the whole period counts even when the university
    never named its student. A week touched by the period counts whole, as regions
    invoice per started week.
    """
    students = student_count if student_count > 0 else row.confirmed_places
    return students * iso_weeks_spanned(row.start_date, row.end_date)


def booking_payload(contract: EventContract, row: Booking, *, student_count: int) -> BookingV1:
    """The ``contract``'s payload for the booking ``row``."""
    fields: dict[str, Any] = {name: getattr(row, name) for name in _BOOKING_FIELDS}
    fields["booking_id"] = row.id
    fields["student_count"] = student_count
    extra = contract.payload.model_fields
    for name in (
        "cancelled_by_organisation_id",
        "cancel_lead_days",
        "cancelled_late",
        "agreement_ends_on",
    ):
        if name in extra:
            fields[name] = getattr(row, name)
    if contract is PLACEMENT_COMPLETED:
        fields["student_weeks"] = student_weeks(row, student_count)
    payload = contract.payload.model_validate(fields)
    assert isinstance(payload, BookingV1)
    return payload


async def emit_booking_event(
    session: AsyncSession,
    contract: EventContract,
    row: Booking,
    *,
    student_count: int,
) -> None:
    """Write the event for ``row``'s current state to the outbox (same transaction)."""
    await emit(
        session,
        contract,
        booking_payload(contract, row, student_count=student_count),
        source=SOURCE,
        aggregate_id=row.id,
        aggregate_version=row.version,
    )
