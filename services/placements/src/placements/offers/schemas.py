"""Request and response bodies of the capacity-offer endpoints.

``OfferFields`` holds every rule on an offer's terms. It validates POST /offers, each row
of a bulk import, and a stored offer with a PATCH merged in, so no rule exists twice. Rules
between fields are field validators reading the fields declared before them, which puts
each error on the field at fault (``end_date``: ``end_before_start``, ``places``:
``odd_places_for_peer_model``); domain failures carry their own error ``type``.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Any, Final

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
)
from pydantic_core import PydanticCustomError
from vfu_common.input_rules import NOT_BLANK, cross_field_rules, never_null
from vfu_domain.codes import ProfessionCode
from vfu_domain.terms import TERM_PATTERN, term_window

from placements.vocabularies import Level, OfferStatus, SupervisionModel, Visibility

MAX_PLACES: Final = 1000
MAX_REQUIREMENTS: Final = 20


ProgrammeCode = Annotated[
    str,
    StringConstraints(pattern=r"^[a-z0-9_-]{1,64}$"),
    Field(
        description="The university's local programme code", examples=["sjukskoterskeprogrammet"]
    ),
]
Term = Annotated[str, StringConstraints(pattern=TERM_PATTERN), Field(examples=["2027-HT"])]
Places = Annotated[int, Field(gt=0, le=MAX_PLACES)]
Requirement = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200), NOT_BLANK
]
Requirements = Annotated[list[Requirement], Field(max_length=MAX_REQUIREMENTS)]


def _outside_term(term: str, day: date) -> PydanticCustomError:
    window = term_window(term)
    return PydanticCustomError(
        "dates_outside_term",
        "{day} is outside term {term} ({first} to {last})",
        {
            "day": day.isoformat(),
            "term": term,
            "first": str(window.first_day),
            "last": str(window.last_day),
        },
    )


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid")


# Checked on a new offer and on an offer after a change is merged into it.
_OFFER_RULES: Final = cross_field_rules(
    dates_outside_term="start_date and end_date lie inside the term's window",
    end_before_start="end_date is not before start_date",
    odd_places_for_peer_model="peer_2_to_1 offers have an even number of places",
    release_after_start="release_on is not after start_date",
)


class OfferFields(_Input):
    """An offer's terms. Field order matters: validators read the fields before them."""

    model_config = ConfigDict(json_schema_extra=_OFFER_RULES)

    unit_id: uuid.UUID
    programme_code: ProgrammeCode | None = None
    profession_code: ProfessionCode
    level: Level
    term: Term
    start_date: date
    end_date: date
    supervision_model: SupervisionModel
    places: Places
    requirements: Requirements = Field(default_factory=list)
    visibility: Visibility = Field(
        default="partners", description="partners: universities with an agreement; all: every one"
    )
    auto_confirm: bool = Field(
        default=False, description="Confirm a booking request at once, without the provider"
    )
    release_on: date | None = Field(
        default=None,
        description="On this day, places still free open to every university (visibility "
        "all), announced by offer.released; at the latest the start date",
    )

    @field_validator("release_on")
    @classmethod
    def _release_before_start(cls, value: date | None, info: ValidationInfo) -> date | None:
        start = info.data.get("start_date")
        if value is not None and start is not None and value > start:
            raise PydanticCustomError("release_after_start", "release_on is after the start_date")
        return value

    @field_validator("start_date")
    @classmethod
    def _start_in_term(cls, value: date, info: ValidationInfo) -> date:
        term = info.data.get("term")
        if term is not None and not _in_window(term, value):
            raise _outside_term(term, value)
        return value

    @field_validator("end_date")
    @classmethod
    def _end_after_start_in_term(cls, value: date, info: ValidationInfo) -> date:
        start = info.data.get("start_date")
        if start is not None and value < start:
            raise PydanticCustomError("end_before_start", "end_date is before start_date")
        term = info.data.get("term")
        if term is not None and not _in_window(term, value):
            raise _outside_term(term, value)
        return value

    @field_validator("places")
    @classmethod
    def _even_for_peer_model(cls, value: int, info: ValidationInfo) -> int:
        if info.data.get("supervision_model") == "peer_2_to_1" and value % 2:
            raise PydanticCustomError(
                "odd_places_for_peer_model",
                "peer_2_to_1 places students in pairs: give an even number of places",
            )
        return value


def _in_window(term: str, day: date) -> bool:
    window = term_window(term)
    return window.first_day <= day <= window.last_day


class OfferCreate(OfferFields):
    """A new offer, stored as a draft unless ``publish`` is true."""

    publish: bool = Field(default=False, description="Publish at once instead of a draft")


# A published offer is already in universities' plans: only these may still change.
PUBLISHED_EDITABLE: Final = frozenset(
    {"places", "requirements", "visibility", "auto_confirm", "release_on"}
)


class OfferUpdate(_Input):
    """Fields to change. A draft may change every field; a published offer only places,
    requirements, visibility, auto_confirm and release_on. Absent fields keep their value
    (release_on null: no release date)."""

    model_config = ConfigDict(json_schema_extra=_OFFER_RULES)

    unit_id: uuid.UUID | None = never_null()
    programme_code: ProgrammeCode | None = None
    profession_code: ProfessionCode | None = never_null()
    level: Level | None = never_null()
    term: Term | None = never_null()
    start_date: date | None = never_null()
    end_date: date | None = never_null()
    supervision_model: SupervisionModel | None = never_null()
    places: Places | None = never_null()
    requirements: Requirements | None = never_null()
    visibility: Visibility | None = never_null()
    auto_confirm: bool | None = never_null()
    release_on: date | None = None

    def changes(self) -> dict[str, Any]:
        """The fields the client sent."""
        return self.model_dump(exclude_unset=True)


class OfferWithdraw(_Input):
    """Why the offer is withdrawn (passed on to the universities whose bookings end)."""

    reason: str | None = Field(default=None, min_length=1, max_length=500)


class OfferOut(BaseModel):
    """A capacity offer as the API shows it."""

    id: uuid.UUID
    unit_id: uuid.UUID
    provider_id: uuid.UUID
    programme_code: str | None
    profession_code: str
    level: str
    term: str
    start_date: date
    end_date: date
    places: int
    held_places: int = Field(description="Places held by requested bookings")
    confirmed_places: int
    free_places: int
    supervision_model: str
    visibility: str
    status: OfferStatus
    auto_confirm: bool
    requirements: list[str]
    municipality_code: str
    county_code: str
    healthcare_region: str
    care_setting: str
    rural: bool
    vulnerable_area: bool
    latitude: float | None
    longitude: float | None
    published_at: datetime | None
    release_on: date | None
    released_at: datetime | None = Field(description="When its release date opened it to all")
    version: int
    created_at: datetime
    updated_at: datetime
