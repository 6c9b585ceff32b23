"""The portal search: who sees what, cursors, and the page the caller gets.

Visibility follows the access rules every offer endpoint applies: ``all`` offers for
every role; ``partners`` offers for the owning provider, admins, coordinators, and a
university (or a portal with an organisation, which acts for one) that has a covering
agreement (status active or notice_given) with the provider in this service's agreement
projection. Drafts, closed and withdrawn offers, and offers without free places are
never listed.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from datetime import date
from typing import Any

from pydantic_core import to_json
from vfu_common.db import Database
from vfu_common.pagination import decode_cursor, encode_cursor, invalid_cursor
from vfu_common.principal import Principal
from vfu_domain.reference import municipalities

from placements.search import repository
from placements.search.geo import circle, km_from_haversine
from placements.search.repository import Audience, Keyset, SearchRow
from placements.search.schemas import OfferHit, SearchParams

_SEES_EVERYTHING = ("admin", "coordinator")
_PARTNER_ROLES = ("university", "portal")


def audience_of(principal: Principal) -> Audience:
    """What the caller may see beyond offers visible to ``all`` (roles add up)."""
    if principal.has_role(*_SEES_EVERYTHING):
        return Audience(everything=True)
    organisation = principal.organisation_id
    if organisation is None:
        return Audience()
    return Audience(
        owner_id=organisation if principal.has_role("provider") else None,
        partner_of=organisation if principal.has_role(*_PARTNER_ROLES) else None,
    )


def _sort_value(sort: str, value: Any) -> Any:
    if sort.endswith("start_date"):
        return date.fromisoformat(value)
    if sort.endswith("free_places"):
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError("free places must be an integer")
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError("distance must be a number")
    return float(value)


def _keyset(params: SearchParams) -> Keyset | None:
    """The position a cursor names; a 400 when it was made for another sort or tampered."""
    if params.cursor is None:
        return None
    position = decode_cursor(params.cursor)
    if position.get("sort") != params.sort:
        raise invalid_cursor()
    try:
        return Keyset(
            value=_sort_value(params.sort, position["after"]), id=uuid.UUID(position["id"])
        )
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise invalid_cursor() from exc


def _cursor_after(params: SearchParams, row: SearchRow) -> str:
    if params.sort == "distance":
        value: Any = row["haversine"]
    elif params.sort.endswith("free_places"):
        value = row["free_places"]
    else:
        value = row["start_date"].isoformat()
    # Floats round-trip exactly through JSON, so the next page resumes at the same row.
    return encode_cursor({"sort": params.sort, "after": value, "id": str(row["id"])})


#: The fields of a hit in the order of OfferHit, which documents them
#: (tests/test_search.py checks that pages validate against it and serialise identically).
HIT_FIELDS = tuple(OfferHit.model_fields)


def hit(row: SearchRow, names: Mapping[str, Any]) -> dict[str, Any]:
    """One search row as the API's item: a dict in OfferHit's shape, for ``to_json``.

    Not validated through OfferHit: every value comes typed from the database (UUIDs,
    dates, booleans, numbers), and validating 20-50 rows per search cost more CPU than
    the SQL of most searches (ADR 19).
    """
    municipality = names.get(row["municipality_code"])
    haversine = row.get("haversine")
    values = {
        **row,
        "municipality_name": municipality.name if municipality else None,
        "requirements": json.loads(row["requirements"]),
        "unit_requirements": json.loads(row["unit_requirements"]),
        "distance_km": None if haversine is None else round(km_from_haversine(haversine), 3),
    }
    return {name: values[name] for name in HIT_FIELDS}


async def search_offers(db: Database, params: SearchParams, *, principal: Principal) -> bytes:
    """One page of the offers the caller may see that match ``params``, in its sort order,
    as the JSON of a ``SearchPage``.

    Raises:
        ProblemError: 400 ``invalid_cursor`` for a cursor made for another sort or altered.
    """
    after = _keyset(params)
    search_circle = (
        circle(params.near_lat, params.near_lon, params.within_km)
        if params.near_lat is not None
        and params.near_lon is not None
        and params.within_km is not None
        else None
    )
    # One row more than asked tells whether another page follows, without a count.
    rows = await repository.search(
        db,
        params,
        audience=audience_of(principal),
        circle=search_circle,
        after=after,
        limit=params.limit + 1,
    )
    names = municipalities()
    page = rows[: params.limit]
    next_cursor = _cursor_after(params, page[-1]) if len(rows) > params.limit else None
    return to_json({"items": [hit(row, names) for row in page], "next_cursor": next_cursor})
