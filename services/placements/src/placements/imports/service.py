"""Bulk import of capacity offers: a row-by-row report and an all-or-nothing commit.

Each row is validated by ``OfferCreate``, the model of POST /offers, and its unit by the
same ownership rule, so an import accepts exactly what the API accepts and reports the
same codes. Only when every row passes are the offers stored, in the request's single
transaction together with their events; otherwise nothing is written and the answer is
422 ``import_has_errors`` listing the failing rows (ADR 0014).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession
from vfu_common import tabular
from vfu_common.errors import ProblemError
from vfu_common.principal import Principal
from vfu_common.utc import utcnow

from placements.imports.schemas import ImportFieldError, OfferImportReport, OfferImportRow
from placements.offers.schemas import OfferCreate
from placements.offers.service import new_offer_row, require_unit_for_offer, store_new_offers
from placements.units import repository as units
from placements.units.models import Unit

_log = logging.getLogger(__name__)

MAX_ROWS: Final = 5000
MAX_BYTES: Final = tabular.MAX_BYTES
UNIT_COLUMNS: Final = ("unit_id", "unit_hsa_id")
REQUIRED_COLUMNS: Final = (
    "profession_code",
    "level",
    "term",
    "start_date",
    "end_date",
    "places",
    "supervision_model",
)
OPTIONAL_COLUMNS: Final = (
    "programme_code",
    "visibility",
    "requirements",
    "auto_confirm",
    "release_on",
)
COLUMNS: Final = frozenset((*UNIT_COLUMNS, *REQUIRED_COLUMNS, *OPTIONAL_COLUMNS))
REQUIREMENT_SEPARATOR: Final = "|"


def check_header(header: Sequence[str]) -> None:
    """Refuse unknown, unnamed, duplicate or missing columns (422 ``import_bad_header``)."""
    tabular.check_header(
        header, allowed=COLUMNS, required=[UNIT_COLUMNS, *((c,) for c in REQUIRED_COLUMNS)]
    )


@dataclass
class _Row:
    """One data row on its way through validation."""

    number: int
    cells: dict[str, str]
    errors: list[ImportFieldError] = field(default_factory=list)
    offer: OfferCreate | None = None
    unit_id: uuid.UUID | None = None
    unit_column: str = "unit_id"

    def fail(self, column: str, code: str, message: str) -> None:
        self.errors.append(ImportFieldError(field=column, code=code, message=message))


def _row(number: int, header: Sequence[str], values: Sequence[str]) -> _Row:
    row = _Row(number, {})
    for index, text in enumerate(values):
        text = text.strip()
        if index >= len(header):
            if text:
                row.fail(f"column {index + 1}", "value_without_column", "no header names it")
            continue
        if text:
            row.cells[header[index]] = text
    return row


def _resolve_unit(row: _Row, hsa_ids: Mapping[str, uuid.UUID]) -> None:
    """Find the unit a row names, by id or by HSA-id."""
    unit_id, hsa_id = row.cells.get("unit_id"), row.cells.get("unit_hsa_id")
    if unit_id is not None:
        try:
            row.unit_id = uuid.UUID(unit_id)
        except ValueError:
            return  # the model reports the malformed id
    if hsa_id is None:
        return
    found = hsa_ids.get(hsa_id)
    if found is None:
        row.unit_column = "unit_hsa_id"
        row.fail("unit_hsa_id", "unit_not_found", f"no care unit has HSA-id {hsa_id}")
    elif row.unit_id is None:
        row.unit_id, row.unit_column = found, "unit_hsa_id"
    elif row.unit_id != found:
        row.fail("unit_hsa_id", "unit_mismatch", "unit_id and unit_hsa_id name different units")


def _model_input(row: _Row, *, publish: bool) -> dict[str, Any]:
    values: dict[str, Any] = {
        name: text for name, text in row.cells.items() if name not in UNIT_COLUMNS
    }
    if row.unit_id is not None:
        values["unit_id"] = row.unit_id
    elif "unit_id" in row.cells:
        values["unit_id"] = row.cells["unit_id"]
    if "requirements" in values:
        values["requirements"] = tabular.list_cell(values["requirements"], REQUIREMENT_SEPARATOR)
    if "auto_confirm" in values:
        values["auto_confirm"] = tabular.boolean_text(values["auto_confirm"])
    values["publish"] = publish
    return values


def _validate(row: _Row, *, publish: bool) -> None:
    """Check the row with the POST /offers model; report each failure on its column."""
    unit_failed = any(error.field in UNIT_COLUMNS for error in row.errors)
    try:
        row.offer = OfferCreate.model_validate(_model_input(row, publish=publish))
    except ValidationError as exc:
        for err in exc.errors():
            column = ".".join(str(part) for part in err["loc"]) or "row"
            if column == "unit_id" and unit_failed:
                continue  # the unit column's own error already says why
            row.fail(column, err["type"], err["msg"])


def _check_unit(row: _Row, unit: Unit | None, principal: Principal) -> None:
    if row.unit_id is None:
        return
    try:
        require_unit_for_offer(unit, row.unit_id, principal)
    except ProblemError as exc:
        row.fail(row.unit_column, exc.code, exc.detail or exc.title)


def _report_row(row: _Row, offer_id: uuid.UUID | None = None) -> OfferImportRow:
    status = "error" if row.errors else "ok"
    return OfferImportRow(row=row.number, status=status, errors=row.errors, offer_id=offer_id)


async def import_offers(
    session: AsyncSession,
    *,
    content: bytes,
    principal: Principal,
    dry_run: bool,
    publish: bool,
) -> OfferImportReport:
    """Validate every row of an offer file and, unless ``dry_run``, store them all.

    Raises:
        ProblemError: 422 ``import_has_errors`` (the failing rows in ``errors``; nothing
            stored), ``import_bad_header``, ``import_too_large``, ``import_empty``,
            ``import_unreadable`` or ``import_bad_encoding``.
    """
    sheet = tabular.read_sheet(content, max_rows=MAX_ROWS)
    check_header(sheet.header)
    rows = [_row(number, sheet.header, values) for number, values in sheet.rows]
    hsa_ids = await units.ids_by_hsa_id(
        session, [r.cells["unit_hsa_id"] for r in rows if "unit_hsa_id" in r.cells]
    )
    for row in rows:
        _resolve_unit(row, hsa_ids)
        _validate(row, publish=publish)
    unit_rows = await units.get_many(session, [r.unit_id for r in rows if r.unit_id])
    for row in rows:
        _check_unit(row, unit_rows.get(row.unit_id) if row.unit_id else None, principal)
    failed = [row for row in rows if row.errors]
    if failed:
        _log_outcome(principal, rows=len(rows), failed=len(failed), created=0, dry_run=dry_run)
        raise tabular.has_errors(
            (_report_row(r).model_dump(mode="json", exclude_none=True) for r in failed),
            total=len(rows),
        )
    if dry_run:
        _log_outcome(principal, rows=len(rows), failed=0, created=0, dry_run=dry_run)
        report = [_report_row(row) for row in rows]
        return OfferImportReport(rows=report, created=0, errors=0, dry_run=True, published=publish)
    now = utcnow()
    new_rows = [
        new_offer_row(row.offer, unit_rows[row.unit_id], publish=publish, now=now)
        for row in rows
        if row.offer is not None and row.unit_id is not None
    ]
    await store_new_offers(session, new_rows)
    _log_outcome(principal, rows=len(rows), failed=0, created=len(new_rows), dry_run=dry_run)
    report = [_report_row(row, new.id) for row, new in zip(rows, new_rows, strict=True)]
    return OfferImportReport(
        rows=report, created=len(new_rows), errors=0, dry_run=False, published=publish
    )


def _log_outcome(
    principal: Principal, *, rows: int, failed: int, created: int, dry_run: bool
) -> None:
    _log.info(
        "offer import by %s: %d rows, %d with errors, %d created, dry_run=%s",
        principal.organisation_id or principal.subject,
        rows,
        failed,
        created,
        dry_run,
    )
