"""Query parameters and response shape of the portal search.

Every parameter lives in one query model with ``extra="forbid"``, ``cursor`` and ``limit``
included: an unknown or misspelt parameter (``care_setings=...``) is a 422 naming it,
never a silently ignored filter that shows a student the wrong places.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator
from vfu_common.pagination import DEFAULT_LIMIT, MAX_LIMIT, Page
from vfu_domain.codes import CountyCode, HealthcareRegion, MunicipalityCode, ProfessionCode
from vfu_domain.terms import TERM_PATTERN

from placements.vocabularies import CareSetting, Level, SupervisionModel, Visibility

SearchSort = Literal["start_date", "-start_date", "free_places", "-free_places", "distance"]
#: The radius is capped so the bounding box stays a small part of the globe (Sweden spans
#: about 1,600 km from north to south).
MAX_RADIUS_KM = 2000.0


class SearchParams(BaseModel):
    """Filters (all optional, all combinable: every given one must match), sort and page."""

    model_config = ConfigDict(extra="forbid")

    programme_code: str | None = Field(default=None, min_length=1, max_length=64)
    profession_code: ProfessionCode | None = None
    term: str | None = Field(default=None, pattern=TERM_PATTERN, examples=["2027-HT"])
    starts_on_or_after: date | None = Field(
        default=None,
        description="Only offers starting on this day or later (inclusive). With "
        "`ends_on_or_before`: offers lying entirely inside that window.",
    )
    ends_on_or_before: date | None = Field(
        default=None, description="Only offers ending on this day or earlier (inclusive)."
    )
    county_code: CountyCode | None = None
    municipality_code: MunicipalityCode | None = Field(
        default=None, description="Four-digit SCB municipality code", examples=["0380"]
    )
    healthcare_region: HealthcareRegion | None = None
    care_setting: CareSetting | None = None
    supervision_model: SupervisionModel | None = None
    level: Level | None = None
    rural: bool | None = None
    vulnerable_area: bool | None = None
    min_free_places: int = Field(
        default=1, ge=1, le=10_000, description="Only offers with at least this many free places"
    )
    near_lat: float | None = Field(default=None, ge=-90, le=90, description="Latitude (WGS 84)")
    near_lon: float | None = Field(default=None, ge=-180, le=180, description="Longitude (WGS 84)")
    within_km: float | None = Field(
        default=None,
        gt=0,
        le=MAX_RADIUS_KM,
        description="Great-circle distance from (near_lat, near_lon); the three come together",
    )
    sort: SearchSort = Field(
        default="start_date",
        description="`-` sorts descending; ties are broken by offer id. `distance` needs a point.",
    )
    cursor: str | None = Field(
        default=None, max_length=512, description="next_cursor of the previous page"
    )
    limit: int = Field(default=DEFAULT_LIMIT, ge=1, le=MAX_LIMIT)

    @model_validator(mode="after")
    def _coherent(self) -> Self:
        point = (self.near_lat, self.near_lon, self.within_km)
        if any(value is not None for value in point) and None in point:
            raise ValueError("near_lat, near_lon and within_km must be given together")
        if self.sort == "distance" and self.within_km is None:
            raise ValueError("sort=distance needs near_lat, near_lon and within_km")
        if (
            self.starts_on_or_after is not None
            and self.ends_on_or_before is not None
            and self.ends_on_or_before < self.starts_on_or_after
        ):
            raise ValueError("ends_on_or_before must not be before starts_on_or_after")
        return self

    @property
    def has_point(self) -> bool:
        """True when the search is around a point (distances are computed and returned)."""
        return self.within_km is not None


class OfferHit(BaseModel):
    """A published offer with free places, as a portal may show it.

    Aggregates only: the number of free places, never bookings, students or supervisors.
    """

    id: uuid.UUID
    unit_id: uuid.UUID
    unit_name: str
    provider_id: uuid.UUID
    provider_name: str | None = Field(
        description="From the organisation projection; null until the provider is projected"
    )
    municipality_code: str
    municipality_name: str | None
    county_code: str
    healthcare_region: str
    care_setting: CareSetting
    rural: bool
    vulnerable_area: bool
    latitude: float | None
    longitude: float | None
    programme_code: str | None
    profession_code: str
    level: Level
    term: str
    start_date: date
    end_date: date
    supervision_model: SupervisionModel
    visibility: Visibility
    requirements: list[str] = Field(description="The offer's requirements")
    unit_requirements: list[str] = Field(
        description="The unit's special requirements (criminal-record extract, language, ...)"
    )
    free_places: int
    published_at: datetime
    distance_km: float | None = Field(
        description="Great-circle distance from the point searched around; null without one"
    )


class SearchPage(Page[OfferHit]):
    """One page of search results."""
