"""Taking and releasing quota use, in the transaction of the booking that moves places.

Taking is one conditional UPDATE per quota row (in key order, so concurrent bookings
lock the rows in one order): a floor always counts, a ceiling only if the claim fits,
so no interleaving of bookings can push use past it; the CHECK on the table refuses the
write even if this condition were ever wrong. Releasing gives the places back in one
UPDATE. Who may book, and which quotas apply, are decided by the callers
(``bookings``, ``quotas.claims``); this module only counts.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import Integer, and_, bindparam, case, literal, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from vfu_common.rows import one_as
from vfu_common.utc import utcnow

from placements.projections.agreements import agreements
from placements.quotas import errors
from placements.quotas.claims import Claim
from placements.quotas.models import QuotaUse, quota_use

_Q = quota_use.c
_ONE_ROW = and_(
    _Q.series_id == bindparam("of_series"),
    _Q.university_id == bindparam("of_university"),
    _Q.programme_code == bindparam("of_programme"),
    _Q.term == bindparam("of_term"),
    _Q.unit == bindparam("of_unit"),
)
_TAKE = (
    update(quota_use)
    .where(_ONE_ROW, or_(_Q.kind == "floor", _Q.used + bindparam("n") <= _Q.amount))
    .values(used=_Q.used + bindparam("n"), updated_at=bindparam("at"))
)
_READ_ONE = select(quota_use).where(_ONE_ROW)


async def take(
    session: AsyncSession, series_id: uuid.UUID, claim: Claim, keys: Sequence[tuple[str, str]]
) -> None:
    """Count ``claim`` against the series' quota rows of ``keys`` (programme code, unit).

    Raises:
        ProblemError: 409 ``quota_exceeded`` naming the ceiling, its amount and use; the
            caller's transaction must roll back (the booking's does, on any refusal).
    """
    now = utcnow()
    for programme_code, unit in sorted(keys):
        key = {
            "of_series": series_id,
            "of_university": claim.university_id,
            "of_programme": programme_code,
            "of_term": claim.term,
            "of_unit": unit,
        }
        amount = claim.amount(unit)
        result = await session.execute(_TAKE, {**key, "n": amount, "at": now})
        if int(result.rowcount) == 1:  # type: ignore[attr-defined]
            continue
        quota = one_as(QuotaUse, await session.execute(_READ_ONE, key))
        if quota is not None:  # a ceiling the claim does not fit; else no such quota
            raise errors.quota_exceeded(quota, amount)


_RELEASED = case(
    (_Q.unit == "places", bindparam("places", type_=Integer)),
    else_=bindparam("weeks_places", type_=Integer),
)
_RELEASE = (
    update(quota_use)
    .where(
        # Bookings record the version that covered them; use is counted per series.
        _Q.series_id
        == select(agreements.c.series_id)
        .where(agreements.c.agreement_id == bindparam("of_agreement"))
        .scalar_subquery(),
        _Q.university_id == bindparam("of_university"),
        _Q.term == bindparam("of_term"),
        _Q.programme_code.in_(bindparam("of_programmes", expanding=True)),
    )
    .values(
        used=_Q.used - _RELEASED,
        excess=case((_Q.excess > _RELEASED, _Q.excess - _RELEASED), else_=literal(0)),
        updated_at=bindparam("at"),
    )
)


async def release(session: AsyncSession, agreement_id: uuid.UUID, claim: Claim) -> None:
    """Give ``claim``'s places back to every quota row of the series of ``agreement_id``
    (the version that covered the booking) that it counted against."""
    if claim.places <= 0 or not claim.programme_codes:
        return
    await session.execute(
        _RELEASE,
        {
            "of_agreement": agreement_id,
            "of_university": claim.university_id,
            "of_term": claim.term,
            "of_programmes": list(claim.programme_codes),
            "places": claim.amount("places"),
            "weeks_places": claim.amount("student_weeks"),
            "at": utcnow(),
        },
    )
