"""The ``quota_use`` table: each quota of an agreement series and how much of it is used.

A row is keyed by the agreement series (amendments are new versions of one series, and
use carries over from one to the next), the university, the programme or profession
code, the term and the unit (places or student-weeks). Its ``kind`` and ``amount`` come
from the series' latest covering version (``quotas.projection``); ``used`` is the
placements service's own count, moved only by ``quotas.counters`` in the transaction of
the booking that takes or releases the places.

A ceiling holds in the database as capacity does: the booking's conditional UPDATE only
adds use that fits, and the CHECK refuses any write past ``amount``. ``excess`` is use
above the amount that an amendment lowering a ceiling found in place: the bookings
already made stand (never cancelled silently), no new booking is accepted until use is
back under the amount, and releases shrink the excess first.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from sqlalchemy import CheckConstraint, Column, Index, Integer, String, Table, Uuid
from vfu_common.db import UtcDateTime, one_of
from vfu_common.rows import row_of

from placements.models import metadata

TABLE: Final = "quota_use"
QUOTA_KINDS: Final = ("floor", "ceiling")
QUOTA_UNITS: Final = ("places", "student_weeks")

quota_use = Table(
    TABLE,
    metadata,
    Column("series_id", Uuid, primary_key=True),
    Column("university_id", Uuid, primary_key=True),
    Column("programme_code", String(64), primary_key=True),
    Column("term", String(7), primary_key=True),
    Column("unit", String(16), primary_key=True),
    # The version whose terms set kind and amount.
    Column("agreement_id", Uuid, nullable=False),
    Column("kind", String(16), nullable=False),
    Column("amount", Integer, nullable=False),
    Column("used", Integer, nullable=False),
    Column("excess", Integer, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    CheckConstraint(one_of("kind", QUOTA_KINDS), name="kind_known"),
    CheckConstraint(one_of("unit", QUOTA_UNITS), name="unit_known"),
    CheckConstraint("amount >= 0", name="amount_non_negative"),
    CheckConstraint("used >= 0", name="used_non_negative"),
    CheckConstraint("excess >= 0", name="excess_non_negative"),
    CheckConstraint("kind = 'floor' OR used <= amount + excess", name="ceiling_holds"),
)
# A university's quotas in a term (its own reading, the default filter).
Index("ix_quota_use_university_term", quota_use.c.university_id, quota_use.c.term)


@row_of(quota_use)
@dataclass(frozen=True)
class QuotaUse:
    """One row of ``quota_use``."""

    series_id: uuid.UUID
    university_id: uuid.UUID
    programme_code: str
    term: str
    unit: str
    agreement_id: uuid.UUID
    kind: str
    amount: int
    used: int
    excess: int
    updated_at: datetime

    @property
    def remaining(self) -> int | None:
        """What may still be booked under a ceiling (None for a floor)."""
        if self.kind != "ceiling":
            return None
        return max(self.amount - self.used, 0)
