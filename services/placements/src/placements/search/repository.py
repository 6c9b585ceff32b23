"""The search as one SQL statement (SQLAlchemy Core; no ORM, no per-row queries).

Offers carry copies of their unit's location and flags, so every filter is on
``capacity_offers``; the unit (for its name and special requirements) and the provider's
projected organisation (for its name) are joined by primary key for the returned rows.

Building a statement of this size costs more Python than running it (about 0.5 ms), so
one statement is built per *shape* — which filters are present, the sort, the caller's
kind of visibility, a point, a cursor — with named bind parameters, and kept; a request
only supplies the values.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from typing import Any, Final, NotRequired, TypedDict, cast

from sqlalchemy import (
    ColumnElement,
    Date,
    Float,
    Integer,
    Select,
    and_,
    bindparam,
    func,
    or_,
    select,
    tuple_,
)
from vfu_common.db import Database
from vfu_common.events.contracts import PROVIDER_ROLES
from vfu_domain.coverage import COVERING_STATUSES
from vfu_domain.organisation_projection import organisations

from placements.offers.models import capacity_offers as offers
from placements.projections.agreements import agreement_parties, agreements
from placements.search.geo import Circle
from placements.search.schemas import SearchParams, SearchSort
from placements.units.models import care_units as units

_FREE_PLACES: Final = offers.c.places - offers.c.held_places - offers.c.confirmed_places
_DEGREE: Final = 3.141592653589793 / 180
#: Filters that compare one column with the value of the query parameter of that name.
EQUALITY_FILTERS: Final = (
    "programme_code",
    "profession_code",
    "term",
    "county_code",
    "municipality_code",
    "healthcare_region",
    "care_setting",
    "supervision_model",
    "level",
    "rural",
    "vulnerable_area",
)


class SearchRow(TypedDict):
    """One row of the search statement: the offer's columns a hit shows, its free
    places, its unit's name and requirements and its provider's name, and the distance
    measure (``haversine``) when the search is around a point.

    A TypedDict, not a dataclass: the rows are built by ``zip`` in C and serialised
    straight to JSON (the portal search is the service's hottest read).
    """

    id: uuid.UUID
    unit_id: uuid.UUID
    provider_id: uuid.UUID
    municipality_code: str
    county_code: str
    healthcare_region: str
    care_setting: str
    rural: bool
    vulnerable_area: bool
    latitude: float | None
    longitude: float | None
    programme_code: str | None
    profession_code: str
    level: str
    term: str
    start_date: date
    end_date: date
    supervision_model: str
    visibility: str
    requirements: str
    published_at: datetime
    free_places: int
    unit_name: str
    unit_requirements: str
    provider_name: str | None
    haversine: NotRequired[float]


# The offer's own columns of a SearchRow, in its order.
_OFFER_COLUMNS: Final = [
    offers.c[name]
    for name in SearchRow.__annotations__
    if name not in {"free_places", "unit_name", "unit_requirements", "provider_name", "haversine"}
]


@dataclass(frozen=True, slots=True)
class Audience:
    """Which published offers the caller may see besides those visible to ``all``.

    Attributes:
        everything: Admins and coordinators see every published offer.
        owner_id: A provider sees its own offers whatever their visibility.
        partner_of: A university (or a portal acting for one) sees the ``partners`` offers
            of providers it has a covering agreement with.
    """

    everything: bool = False
    owner_id: uuid.UUID | None = None
    partner_of: uuid.UUID | None = None


@dataclass(frozen=True, slots=True)
class Keyset:
    """Where the previous page ended: its last row's sort value and id."""

    value: Any
    id: uuid.UUID


@dataclass(frozen=True, slots=True)
class _Shape:
    """What decides the statement's SQL text; the values are bound per request."""

    equal: tuple[str, ...]
    starts: bool
    ends: bool
    sort: SearchSort
    everything: bool
    owner: bool
    partner: bool
    point: bool
    lon_box: bool
    after: bool


def _haversine_term() -> ColumnElement[float]:
    """``h`` of the haversine formula for each offer (see ``search.geo``)."""

    def sin_half(column: Any, centre: str) -> ColumnElement[float]:
        return func.sin((column - bindparam(centre, type_=Float)) * (_DEGREE / 2))

    half_lat = sin_half(offers.c.latitude, "near_lat")
    half_lon = sin_half(offers.c.longitude, "near_lon")
    cos_lat = func.cos(offers.c.latitude * _DEGREE)
    return half_lat * half_lat + bindparam("cos_near_lat", type_=Float) * cos_lat * (
        half_lon * half_lon
    )


def _partners_of_caller() -> Select[tuple[uuid.UUID]]:
    """Providers sharing a covering agreement with the calling university (the coverage
    rule's statuses and party roles, without its programme and date tests)."""
    university = agreement_parties.alias("university_party")
    provider = agreement_parties.alias("provider_party")
    return (
        select(provider.c.organisation_id)
        .join(university, university.c.agreement_id == provider.c.agreement_id)
        .join(agreements, agreements.c.agreement_id == provider.c.agreement_id)
        .where(
            university.c.organisation_id == bindparam("partner_of", type_=offers.c.id.type),
            university.c.role == "university",
            provider.c.role.in_(sorted(PROVIDER_ROLES)),
            agreements.c.status.in_(sorted(COVERING_STATUSES)),
        )
    )


def _conditions(shape: _Shape, haversine: ColumnElement[float]) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = [
        offers.c.status == "published",
        # Not written as ``_FREE_PLACES >= n``: that would match the free-places index's
        # expression as a range, and SQLite (no statistics) would then prefer that index
        # for every profession-and-term search, whatever its order (12 ms instead of 0.3).
        offers.c.places
        >= offers.c.held_places
        + offers.c.confirmed_places
        + bindparam("min_free_places", type_=Integer),
    ]
    conditions += [offers.c[name] == bindparam(name) for name in shape.equal]
    if shape.starts:
        conditions.append(offers.c.start_date >= bindparam("starts_on_or_after", type_=Date))
    if shape.ends:
        conditions.append(offers.c.end_date <= bindparam("ends_on_or_before", type_=Date))
    if not shape.everything:
        allowed: list[ColumnElement[bool]] = [offers.c.visibility == "all"]
        if shape.owner:
            allowed.append(offers.c.provider_id == bindparam("owner_id"))
        if shape.partner:
            allowed.append(offers.c.provider_id.in_(_partners_of_caller()))
        conditions.append(or_(*allowed))
    if shape.point:
        conditions.append(
            offers.c.latitude.between(
                bindparam("min_lat", type_=Float), bindparam("max_lat", type_=Float)
            )
        )
        if shape.lon_box:
            conditions.append(
                offers.c.longitude.between(
                    bindparam("min_lon", type_=Float), bindparam("max_lon", type_=Float)
                )
            )
        conditions.append(haversine <= bindparam("h_max", type_=Float))
    return conditions


def _ordered(key: Any, row_id: Any, *, descending: bool) -> list[Any]:
    return [key.desc(), row_id.desc()] if descending else [key.asc(), row_id.asc()]


@lru_cache(maxsize=512)
def _statement(shape: _Shape) -> Select[Any]:
    """The statement of one shape.

    The page's ids are chosen from ``capacity_offers`` alone in a narrow derived table
    (id, sort key, haversine term), and only those rows are read in full and joined to
    their unit and provider: sorting every match, as the free-places and distance sorts
    must, then moves small rows, and the joins cost ``limit`` lookups.
    """
    haversine = _haversine_term()
    conditions = _conditions(shape, haversine)
    key: ColumnElement[Any]
    if shape.sort == "distance":
        key = haversine
    elif shape.sort.endswith("free_places"):
        key = _FREE_PLACES
    else:
        key = offers.c.start_date
    descending = shape.sort.startswith("-")
    if shape.after:
        # A row comparison, so the database can seek an index on (key, id) to the cursor.
        position = tuple_(key, offers.c.id)
        boundary = tuple_(
            bindparam("after_value", type_=key.type), bindparam("after_id", type_=offers.c.id.type)
        )
        conditions.append(position < boundary if descending else position > boundary)
    page_columns = [offers.c.id, key.label("sort_key")]
    if shape.point and key is not haversine:
        page_columns.append(haversine.label("haversine"))
    page = (
        select(*page_columns)
        .where(and_(*conditions))
        .order_by(*_ordered(key, offers.c.id, descending=descending))
        .limit(bindparam("limit", type_=Integer))
        .subquery("page")
    )
    distance: list[Any] = []
    if shape.point:
        distance = [page.c.sort_key.label("haversine") if key is haversine else page.c.haversine]
    return (
        select(
            *_OFFER_COLUMNS,
            _FREE_PLACES.label("free_places"),
            *distance,
            units.c.name.label("unit_name"),
            units.c.special_requirements.label("unit_requirements"),
            organisations.c.name.label("provider_name"),
        )
        .select_from(
            page.join(offers, offers.c.id == page.c.id)
            .join(units, units.c.id == offers.c.unit_id)
            .outerjoin(organisations, organisations.c.id == offers.c.provider_id)
        )
        .order_by(*_ordered(page.c.sort_key, page.c.id, descending=descending))
    )


def build_search(
    params: SearchParams,
    *,
    audience: Audience,
    circle: Circle | None,
    after: Keyset | None,
    limit: int,
) -> tuple[Select[Any], dict[str, Any]]:
    """The search statement for ``params`` and the values to bind to it.

    It lists visible, published offers with at least ``min_free_places`` free, matching
    every given filter, in the sort order, after ``after``, at most ``limit`` of them.
    """
    equal = {name: getattr(params, name) for name in EQUALITY_FILTERS}
    equal = {name: value for name, value in equal.items() if value is not None}
    shape = _Shape(
        equal=tuple(equal),
        starts=params.starts_on_or_after is not None,
        ends=params.ends_on_or_before is not None,
        sort=params.sort,
        everything=audience.everything,
        owner=audience.owner_id is not None,
        partner=audience.partner_of is not None,
        point=circle is not None,
        lon_box=circle is not None and circle.min_lon is not None,
        after=after is not None,
    )
    values: dict[str, Any] = {
        **equal,
        "min_free_places": params.min_free_places,
        "starts_on_or_after": params.starts_on_or_after,
        "ends_on_or_before": params.ends_on_or_before,
        "owner_id": audience.owner_id,
        "partner_of": audience.partner_of,
        "limit": limit,
    }
    if circle is not None:
        values |= {
            "near_lat": circle.lat,
            "near_lon": circle.lon,
            "cos_near_lat": circle.cos_lat,
            "min_lat": circle.min_lat,
            "max_lat": circle.max_lat,
            "min_lon": circle.min_lon,
            "max_lon": circle.max_lon,
            "h_max": circle.h_max,
        }
    if after is not None:
        values |= {"after_value": after.value, "after_id": after.id}
    # SQLAlchemy binds the values the statement names and ignores the others.
    return _statement(shape), values


async def search(
    db: Database,
    params: SearchParams,
    *,
    audience: Audience,
    circle: Circle | None,
    after: Keyset | None,
    limit: int,
) -> list[SearchRow]:
    """Run the search statement; rows in sort order, at most ``limit``.

    One statement in autocommit (``Database.fetch_all``): no session, no transaction, and
    on SQLite a single hop to a read thread.
    """
    stmt, values = build_search(params, audience=audience, circle=circle, after=after, limit=limit)
    rows = await db.fetch_all(stmt, values)
    if not rows:
        return []
    # Plain dicts, made by zip in C: a RowMapping answers a missing key by raising and
    # catching a KeyError inside SQLAlchemy, which costs more than the row's other work.
    names = rows[0]._fields
    return [cast(SearchRow, dict(zip(names, row, strict=True))) for row in rows]
