"""Request and response bodies of the organisation endpoints."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field
from vfu_common.events.contracts import OrganisationKind
from vfu_common.identifiers import MunicipalityCode, OrganisationNumber


class OrganisationCreate(BaseModel):
    """Register an organisation."""

    model_config = ConfigDict(extra="forbid")

    organisation_number: OrganisationNumber = Field(
        description="Organisationsnummer, 10 digits (a hyphen after the sixth is accepted)",
        examples=["2321000024"],
    )
    kind: OrganisationKind
    name: str = Field(min_length=1, max_length=200)
    municipality_code: MunicipalityCode | None = Field(
        default=None, description="4-digit SCB municipality code of the seat", examples=["0380"]
    )


class OrganisationOut(BaseModel):
    """A registered organisation."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    organisation_number: str
    kind: OrganisationKind
    name: str
    municipality_code: str | None
    version: int
    created_at: datetime
    updated_at: datetime
