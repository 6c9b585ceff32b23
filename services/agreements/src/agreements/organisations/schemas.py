"""Request and response bodies of the organisation endpoints."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator
from vfu_common.events.contracts import OrganisationKind
from vfu_common.input_rules import cross_field_rules, never_null
from vfu_domain.codes import CountyCode, HealthcareRegion, MunicipalityCode
from vfu_domain.identifiers import HsaId, OrganisationNumber

Name = Annotated[str, Field(min_length=1, max_length=200)]


class OrganisationCreate(BaseModel):
    """Register an organisation.

    A municipality needs ``municipality_code``; a region needs ``county_code`` or
    ``municipality_code``. The county defaults to the municipality's and must agree with it.
    """

    model_config = ConfigDict(
        extra="forbid",
        # Checked by the service (locate), with these problem codes.
        json_schema_extra=cross_field_rules(
            municipality_code_required="a municipality has its municipality_code",
            county_required="a region has county_code or municipality_code",
            county_mismatch="county_code, when given with municipality_code, is the county "
            "the municipality lies in",
        ),
    )

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

    name: Name | None = never_null()
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
