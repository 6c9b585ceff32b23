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
from vfu_domain.codes import MunicipalityCode
from vfu_domain.identifiers import HsaId

from placements.vocabularies import CareSetting

MAX_REQUIREMENTS = 20


UnitName = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200), NOT_BLANK
]
Latitude = Annotated[float, Field(ge=-90, le=90, allow_inf_nan=False)]
Longitude = Annotated[float, Field(ge=-180, le=180, allow_inf_nan=False)]
ShortText = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100), NOT_BLANK
]
Requirements = Annotated[list[ShortText], Field(max_length=MAX_REQUIREMENTS)]


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid")


# Checked on a new unit and on a unit after a change is merged into it.
_UNIT_RULES: Final = cross_field_rules(
    coordinates_incomplete="latitude and longitude are given together, or neither"
)


class UnitFields(_Input):
    """A care unit's own data: what a provider states about the unit."""

    model_config = ConfigDict(json_schema_extra=_UNIT_RULES)

    name: UnitName
    hsa_id: HsaId | None = None
    municipality_code: MunicipalityCode
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

    model_config = ConfigDict(json_schema_extra=_UNIT_RULES)

    name: UnitName | None = never_null()
    hsa_id: HsaId | None = None
    municipality_code: MunicipalityCode | None = never_null()
    care_setting: CareSetting | None = never_null()
    latitude: Latitude | None = None
    longitude: Longitude | None = None
    rural: bool | None = never_null()
    vulnerable_area: bool | None = never_null()
    special_requirements: Requirements | None = never_null()

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
