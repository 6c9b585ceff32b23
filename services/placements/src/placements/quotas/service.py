"""Reading quota use, with the same party rules as bookings.

A university sees its own quotas, a provider the quotas of agreements it is a party to,
coordinators and admins every quota. (Portals never reach here: the access matrix.)
"""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession
from vfu_common.pagination import PageParams, encode_cursor, invalid_cursor
from vfu_common.principal import Principal

from placements.bookings.access import OVERSEER_ROLES
from placements.quotas import repository
from placements.quotas.models import QuotaUse
from placements.quotas.schemas import QuotaFilters, QuotaUseOut


async def list_quotas(
    session: AsyncSession, *, principal: Principal, filters: QuotaFilters, page: PageParams
) -> tuple[list[QuotaUseOut], str | None]:
    """A page of the quotas the caller may see; the next cursor if there are more."""
    visible = None
    if not principal.has_role(*OVERSEER_ROLES):
        organisation_id = principal.organisation_id
        visible = repository.visible_to(
            university_id=organisation_id if principal.has_role("university") else None,
            provider_id=organisation_id if principal.has_role("provider") else None,
        )
    rows = await repository.page(
        session,
        visible=visible,
        agreement_id=filters.agreement_id,
        university_id=filters.university_id,
        term=filters.term,
        after=_after(page),
        limit=page.limit + 1,
    )
    items = rows[: page.limit]
    more = len(rows) > page.limit
    cursor = encode_cursor({"after": _position(items[-1])}) if more else None
    return [QuotaUseOut.from_row(row) for row in items], cursor


def _position(row: QuotaUse) -> list[str]:
    return [str(row.term), str(row.series_id), str(row.university_id), row.programme_code, row.unit]


def _after(page: PageParams) -> tuple[object, ...] | None:
    if page.cursor is None:
        return None
    try:
        term, series, university, programme, unit = page.cursor["after"]
        return (str(term), uuid.UUID(series), uuid.UUID(university), str(programme), str(unit))
    except (KeyError, TypeError, ValueError) as exc:
        raise invalid_cursor() from exc
