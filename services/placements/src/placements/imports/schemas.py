"""The row-by-row report of an offer import."""

from __future__ import annotations

import uuid
from typing import Literal

from pydantic import BaseModel, Field


class ImportFieldError(BaseModel):
    """One problem in one cell (``field`` is the column, or the model field at fault)."""

    field: str
    code: str = Field(description="Stable code, the same as the API gives for that field")
    message: str


class OfferImportRow(BaseModel):
    """The outcome of one data row (row numbers are spreadsheet rows; the header is 1)."""

    row: int
    status: Literal["ok", "error"]
    errors: list[ImportFieldError] = Field(default_factory=list)
    offer_id: uuid.UUID | None = None


class OfferImportReport(BaseModel):
    """What an import did: every row's outcome and the counts."""

    rows: list[OfferImportRow]
    created: int = Field(description="Offers stored (0 on a dry run)")
    errors: int = Field(description="Rows with errors (0, or nothing would be stored)")
    dry_run: bool
    published: bool = Field(description="Whether the offers were published at once")
