"""Request and response bodies of the organisation endpoints."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal, get_args

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator
from vfu_common.events.contracts import OrganisationKind
from vfu_domain.identifiers import HsaId, MunicipalityCode, OrganisationNumber
from vfu_domain.reference import HEALTHCARE_REGIONS, counties

HealthcareRegion = Literal["Norra", "Mellansverige", "Stockholm", "Sydöstra", "Södra", "Västra"]
# A Literal documents the six values in OpenAPI; this keeps it equal to the reference data.
if get_args(HealthcareRegion) != HEALTHCARE_REGIONS:
    raise RuntimeError("HealthcareRegion differs from vfu_domain.reference.HEALTHCARE_REGIONS")


def _known_county(value: str) -> str:
    if value not in {county.lan_code for county in counties()}:
        raise ValueError(f"unknown county code: {value!r}")
    return value


#: A two-digit SCB county (län) code present in the bundled reference data.
CountyCode = Annotated[
    str,
    Field(
        pattern=r"^[0-9]{2}$",
        description="Two-digit SCB county (län) code",
        examples=["13"],
    ),
    AfterValidator(_known_county),
]

Name = Annotated[str, Field(min_length=1, max_length=200)]


class OrganisationCreate(BaseModel):
    """Register an organisation.

    A municipality needs ``municipality_code``; a region needs ``county_code`` or
    ``municipality_code``. The county defaults to the municipality's and must agree with it.
    """

    model_config = ConfigDict(extra="forbid")

    organisation_number: OrganisationNumber = Field(
        description="Organisationsnummer, 10 digits (a hyphen after the sixth is accepted)",
        examples=["2321000024"],
    )
    kind: OrganisationKind
    name: Name
    municipality_code: MunicipalityCode | None = Field(
        default=None, description="4-digit SCB municipality code of the seat", examples=["0380"]
    )
    county_code: CountyCode | None = Field(
        default=None,
        description="Two-digit county code; derived from municipality_code when that is given",
    )
    hsa_id: HsaId | None = None


class OrganisationChange(BaseModel):
    """Change an organisation: only the fields present change; ``null`` clears an optional one.

    A new ``municipality_code`` re-derives the county and the healthcare regions.
    """

    model_config = ConfigDict(extra="forbid")

    name: Name | None = None
    hsa_id: HsaId | None = None
    municipality_code: MunicipalityCode | None = None

    @model_validator(mode="after")
    def _name_cannot_be_cleared(self) -> OrganisationChange:
        if "name" in self.model_fields_set and self.name is None:
            raise ValueError("name cannot be null; omit it to keep the current name")
        return self


class OrganisationFilter(BaseModel):
    """Search criteria; every given one must match.

    Not ``extra="forbid"``: FastAPI would then count ``cursor`` and ``limit``, which the
    pagination dependency reads from the same query string, as unknown fields.
    """

    kind: OrganisationKind | None = None
    county_code: CountyCode | None = None
    healthcare_region: HealthcareRegion | None = None
    name: str | None = Field(
        default=None,
        min_length=1,
        max_length=200,
        description="Case-insensitive part of the name",
    )


class OrganisationOut(BaseModel):
    """A registered organisation."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    organisation_number: str
    kind: OrganisationKind
    name: str
    municipality_code: str | None
    county_code: str | None
    hsa_id: str | None
    healthcare_regions: list[HealthcareRegion]
    version: int
    created_at: datetime
    updated_at: datetime
