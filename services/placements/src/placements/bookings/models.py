"""The ``bookings`` and ``booking_students`` tables.

A booking copies the offer fields its events and checks need (unit, provider, programme,
dates) so that reading or announcing a booking never joins the offer. Places a booking
holds on its offer: ``requested_places`` while requested, ``confirmed_places`` while
confirmed, in progress or completed; none once declined or cancelled. The offer's
counters are the sums of those, kept by the same transactions that change a status.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Final

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    Date,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    Table,
    Uuid,
)
from sqlalchemy.sql.elements import conv
from vfu_common.db import UtcDateTime
from vfu_common.rows import row_of

from placements.models import metadata
from placements.offers.models import TABLE as OFFERS_TABLE
from placements.vocabularies import (
    BOOKING_STATUSES,
    SUPERVISION_MODELS,
    BookingStatus,
    SupervisionModel,
    one_of,
)

TABLE: Final = "bookings"
STUDENTS_TABLE: Final = "booking_students"
_OFFER_FK: Final = "fk_bookings_offer_id_capacity_offers"
_STUDENT_BOOKING_FK: Final = "fk_booking_students_booking_id_bookings"
_INDEXES: Final = {
    "ix_bookings_offer": ("offer_id", "status"),
    "ix_bookings_university": ("university_id", "id"),
    "ix_bookings_provider": ("provider_id", "id"),
}
# Added by migration 0005: what the lifecycle scheduler and the agreement watch look up.
_LATER_INDEXES: Final = {
    "ix_bookings_status_start": ("status", "start_date"),
    "ix_bookings_agreement": ("agreement_id",),
}
STUDENT_ID_LENGTH: Final = 64
NOTE_LENGTH: Final = 500


def _check(sql: str, name: str) -> CheckConstraint:
    return CheckConstraint(sql, name=conv(f"ck_bookings_{name}"))


def _columns() -> list[Any]:
    return [
        Column("id", Uuid, primary_key=True),
        Column("offer_id", Uuid, nullable=False),
        Column("unit_id", Uuid, nullable=False),
        Column("provider_id", Uuid, nullable=False),
        Column("university_id", Uuid, nullable=False),
        Column("programme_code", String(64), nullable=True),
        Column("profession_code", String(64), nullable=False),
        Column("course_code", String(32), nullable=False),
        Column("course_instance", String(32), nullable=False),
        Column("term", String(7), nullable=False),
        Column("start_date", Date, nullable=False),
        Column("end_date", Date, nullable=False),
        Column("supervision_model", String(20), nullable=False),
        Column("requested_places", Integer, nullable=False),
        Column("confirmed_places", Integer, nullable=False),
        Column("status", String(16), nullable=False),
        Column("reason", String(64), nullable=True),
        Column("reason_detail", String(500), nullable=True),
        Column("cancelled_by_organisation_id", Uuid, nullable=True),
        # Days from the day of cancelling to the start, and whether that was under notice.
        Column("cancel_lead_days", Integer, nullable=True),
        Column("cancelled_late", Boolean, nullable=True),
        # The agreement version that covered the booking when it was requested.
        Column("agreement_id", Uuid, nullable=True),
        # Set when the covering agreement ends before the placement does (flagged).
        Column("agreement_ends_on", Date, nullable=True),
        # The planning round whose published allocation made the booking (None: booked).
        Column("round_id", Uuid, nullable=True),
        Column("created_by", String(255), nullable=False),
        Column("version", Integer, nullable=False),
        Column("created_at", UtcDateTime, nullable=False),
        Column("updated_at", UtcDateTime, nullable=False),
        ForeignKeyConstraint(["offer_id"], [f"{OFFERS_TABLE}.id"], name=_OFFER_FK),
        _check("requested_places > 0", "requested_positive"),
        _check(
            "confirmed_places >= 0 AND confirmed_places <= requested_places",
            "confirmed_within_requested",
        ),
        _check(
            "status NOT IN ('confirmed', 'in_progress', 'completed') OR confirmed_places > 0",
            "confirmed_has_places",
        ),
        _check(one_of("status", BOOKING_STATUSES), "status_known"),
        _check(one_of("supervision_model", SUPERVISION_MODELS), "supervision_model_known"),
        _check("end_date >= start_date", "dates_ordered"),
        _check("version >= 1", "version_positive"),
    ]


def _later_columns() -> list[Any]:
    """Columns added after migration 0004 (by migration 0005)."""
    return [
        # The university's note to the provider (practical details, not personal data).
        Column("note", String(NOTE_LENGTH), nullable=True),
    ]


def _student_columns() -> list[Any]:
    return [
        Column("booking_id", Uuid, primary_key=True),
        # The university's pseudonymous id; never a personal identity number.
        Column("student_id", String(STUDENT_ID_LENGTH), primary_key=True),
        Column("added_at", UtcDateTime, nullable=False),
        ForeignKeyConstraint(
            ["booking_id"], [f"{TABLE}.id"], name=_STUDENT_BOOKING_FK, ondelete="CASCADE"
        ),
    ]


bookings = Table(TABLE, metadata, *_columns(), *_later_columns())
booking_students = Table(STUDENTS_TABLE, metadata, *_student_columns())
for _name, _cols in (_INDEXES | _LATER_INDEXES).items():
    Index(_name, *(bookings.c[c] for c in _cols))


@row_of(bookings)
@dataclass(frozen=True)
class Booking:
    """A ``bookings`` row as read."""

    id: uuid.UUID
    offer_id: uuid.UUID
    unit_id: uuid.UUID
    provider_id: uuid.UUID
    university_id: uuid.UUID
    programme_code: str | None
    profession_code: str
    course_code: str
    course_instance: str
    term: str
    start_date: date
    end_date: date
    supervision_model: SupervisionModel
    requested_places: int
    confirmed_places: int
    status: BookingStatus
    reason: str | None
    reason_detail: str | None
    cancelled_by_organisation_id: uuid.UUID | None
    cancel_lead_days: int | None
    cancelled_late: bool | None
    agreement_id: uuid.UUID | None
    agreement_ends_on: date | None
    round_id: uuid.UUID | None
    created_by: str
    version: int
    created_at: datetime
    updated_at: datetime
    note: str | None
