"""The row-by-row report of a bulk training record report."""

from __future__ import annotations

import uuid
from typing import Literal

from pydantic import BaseModel, Field

ImportMode = Literal["all_or_nothing", "partial"]
RowStatus = Literal["stored", "valid", "error", "unmatched"]


class ImportProblem(BaseModel):
    """One problem of one row (``field``: the column or field at fault, or ``row``)."""

    field: str
    code: str = Field(description="Stable code, the same as the single report gives")
    message: str


class TrainingImportRow(BaseModel):
    """The outcome of one row.

    Rows are spreadsheet rows for CSV (the header is 1) and 1-based positions in
    ``records`` for JSON. ``valid``: would be stored (a dry run, or an all-or-nothing import
    held back by other rows); ``unmatched``: no registered supervisor matches the row.
    ``code``, ``field`` and ``message`` repeat the first of ``problems``.
    """

    row: int
    status: RowStatus
    code: str | None = None
    field: str | None = None
    message: str | None = None
    problems: list[ImportProblem] = Field(default_factory=list)
    record_id: uuid.UUID | None = None


class TrainingImportReport(BaseModel):
    """What a bulk report did: every row's outcome and the counts."""

    rows: list[TrainingImportRow]
    stored: int = Field(description="Records stored (0 on a dry run)")
    errors: int = Field(description="Rows with errors other than an unmatched supervisor")
    unmatched: int = Field(description="Rows whose supervisor no registered supervisor matches")
    mode: ImportMode
    dry_run: bool
