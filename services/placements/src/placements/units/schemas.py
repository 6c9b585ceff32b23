"""Request and response bodies of the care-unit endpoints.

Every rule on a single value lives in an ``Annotated`` type shared by the create and the
update bodies; the rule spanning two fields (coordinates both or none) lives in
``UnitFields``, which validates a new unit and, in the service, a stored unit with an
update merged in. Domain failures carry their own error ``type`` (``unknown_municipality``,
``invalid_hsa_id``, ``coordinates_incomplete``) next to the field's location.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
)
from pydantic_core import PydanticCustomError
from vfu_domain.identifiers import is_valid_hsa_id
from vfu_domain.reference import is_known_municipality

from placements.vocabularies import CareSetting

MAX_REQUIREMENTS = 20


def _known_municipality(value: str) -> str:
    if not is_known_municipality(value):
        raise PydanticCustomError(
            "unknown_municipality",
            "{value!r} is not a known four-digit municipality (kommun) code",
            {"value": value},
        )
    return value


def _valid_hsa_id(value: str) -> str:
    if not is_valid_hsa_id(value):
        raise PydanticCustomError(
            "invalid_hsa_id",
            "an HSA-id is 'SE', a valid organisationsnummer, '-' and a local part of letters "
            "or digits, at most 31 characters",
        )
    return value


UnitName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
UnitHsaId = Annotated[
    str,
    StringConstraints(strip_whitespace=True, max_length=31),
    AfterValidator(_valid_hsa_id),
    Field(examples=["SE2321000016-7XYZ"]),
]
UnitMunicipality = Annotated[str, AfterValidator(_known_municipality), Field(examples=["0180"])]
Latitude = Annotated[float, Field(ge=-90, le=90, allow_inf_nan=False)]
Longitude = Annotated[float, Field(ge=-180, le=180, allow_inf_nan=False)]
ShortText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Requirements = Annotated[list[ShortText], Field(max_length=MAX_REQUIREMENTS)]


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid")


class UnitFields(_Input):
    """A care unit's own data: what a provider states about the unit."""

    name: UnitName
    hsa_id: UnitHsaId | None = None
    municipality_code: UnitMunicipality
    care_setting: CareSetting
    latitude: Latitude | None = None
    # Validated even when absent, so a latitude without a longitude is refused here.
    longitude: Longitude | None = Field(default=None, validate_default=True)
    rural: bool = False
    vulnerable_area: bool = False
    special_requirements: Requirements = Field(
        default_factory=list, examples=[["criminal-record extract", "Swedish C1"]]
    )

    @field_validator("longitude")
    @classmethod
    def _coordinates_together(cls, value: float | None, info: ValidationInfo) -> float | None:
        if "latitude" not in info.data:  # latitude itself failed; its error says why
            return value
        if (info.data["latitude"] is None) != (value is None):
            raise PydanticCustomError(
                "coordinates_incomplete", "give latitude and longitude together, or neither"
            )
        return value


class UnitCreate(UnitFields):
    """A new care unit; ``provider_id`` is the caller's organisation unless an admin sets it."""

    provider_id: uuid.UUID | None = Field(
        default=None, description="Only for admins; providers create units for themselves"
    )


class UnitUpdate(_Input):
    """Fields to change; absent fields keep their value, ``null`` clears an optional one."""

    name: UnitName | None = None
    hsa_id: UnitHsaId | None = None
    municipality_code: UnitMunicipality | None = None
    care_setting: CareSetting | None = None
    latitude: Latitude | None = None
    longitude: Longitude | None = None
    rural: bool | None = None
    vulnerable_area: bool | None = None
    special_requirements: Requirements | None = None

    def changes(self) -> dict[str, Any]:
        """The fields the client sent."""
        return self.model_dump(exclude_unset=True)


class UnitOut(BaseModel):
    """A care unit as the API shows it (units are public facts)."""

    id: uuid.UUID
    provider_id: uuid.UUID
    name: str
    hsa_id: str | None
    municipality_code: str
    county_code: str = Field(description="Derived from the municipality")
    healthcare_region: str = Field(description="Derived from the municipality (not the county)")
    care_setting: str
    latitude: float | None
    longitude: float | None
    rural: bool
    vulnerable_area: bool
    special_requirements: list[str]
    version: int
    created_at: datetime
    updated_at: datetime
