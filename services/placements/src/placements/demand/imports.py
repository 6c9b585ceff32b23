"""Bulk import of a university's demand lines: a row-by-row report, all or nothing.

Each row is validated by ``DemandCreate``, the model of POST /rounds/{id}/demand, and by
the same term rule, so an import accepts exactly what the API accepts and reports the
same codes. Only when every row passes are the lines stored, in one transaction with
their events; otherwise nothing is written and the answer is 422 ``import_has_errors``
listing the failing rows (as the offer import, ADR 0014).
"""

from __future__ import annotations

import logging
import uuid
from typing import Any, Final

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession
from vfu_common import tabular
from vfu_common.errors import ProblemError
from vfu_common.principal import Principal

from placements.demand import service
from placements.demand.schemas import DemandCreate, DemandImportReport, DemandImportRow
from placements.imports.schemas import ImportFieldError
from placements.rounds.models import PlanningRound

_log = logging.getLogger(__name__)

MAX_ROWS: Final = 2000
MAX_BYTES: Final = tabular.MAX_BYTES
REQUIRED_COLUMNS: Final = ("profession_code", "programme_code", "course_code", "students")
PERIOD_COLUMNS: Final = (("start_date", "first_week"), ("end_date", "last_week"))
LIST_COLUMNS: Final = ("care_settings", "municipality_codes", "county_codes")
BOOLEAN_COLUMNS: Final = ("accepts_other_municipality", "accepts_other_weeks")
OPTIONAL_COLUMNS: Final = ("course_instance", "max_distance_km", *LIST_COLUMNS, *BOOLEAN_COLUMNS)
COLUMNS: Final = frozenset(
    (*REQUIRED_COLUMNS, *(c for pair in PERIOD_COLUMNS for c in pair), *OPTIONAL_COLUMNS)
)


def _model_input(cells: dict[str, str], university_id: uuid.UUID | None) -> dict[str, Any]:
    values: dict[str, Any] = dict(cells)
    for name in LIST_COLUMNS:
        if name in values:
            values[name] = tabular.list_cell(values[name])
    for name in BOOLEAN_COLUMNS:
        if name in values:
            values[name] = tabular.boolean_text(values[name])
    if university_id is not None:
        values["university_id"] = university_id
    return values


def _check_row(
    cells: dict[str, str], university_id: uuid.UUID | None, round_: PlanningRound
) -> tuple[DemandCreate | None, list[ImportFieldError]]:
    """The row's line, or the errors that keep it out, each on its column."""
    try:
        line = DemandCreate.model_validate(_model_input(cells, university_id))
    except ValidationError as exc:
        return None, [
            ImportFieldError(
                field=".".join(str(part) for part in err["loc"]) or "row",
                code=err["type"],
                message=err["msg"],
            )
            for err in exc.errors()
        ]
    try:
        service.in_term(round_, line)
    except ProblemError as exc:
        return None, [ImportFieldError(field="start_date", code=exc.code, message=exc.detail or "")]
    return line, []


async def import_demand(
    session: AsyncSession,
    round_id: uuid.UUID,
    *,
    content: bytes,
    principal: Principal,
    university_id: uuid.UUID | None,
    dry_run: bool,
) -> DemandImportReport:
    """Validate every row of a demand file and, unless ``dry_run``, store them all.

    Raises:
        ProblemError: the round's and gate's problems as POST /demand; 422
            ``import_has_errors`` (the failing rows; nothing stored), ``import_bad_header``,
            ``import_too_large``, ``import_empty``, ``import_unreadable``.
    """
    round_, owner = await service.prepare_submission(session, round_id, principal, university_id)
    sheet = tabular.read_sheet(content, max_rows=MAX_ROWS)
    tabular.check_header(
        sheet.header,
        allowed=COLUMNS,
        required=[*((c,) for c in REQUIRED_COLUMNS), *PERIOD_COLUMNS],
    )
    checked = [
        (number, *_check_row(cells, university_id, round_)) for number, cells in sheet.records()
    ]
    failed = [
        DemandImportRow(row=number, status="error", errors=errs)
        for number, _, errs in checked
        if errs
    ]
    _log.info(
        "demand import into round %s by %s: %d rows, %d with errors, dry_run=%s",
        round_id,
        owner,
        len(checked),
        len(failed),
        dry_run,
    )
    if failed:
        raise tabular.has_errors(
            (row.model_dump(mode="json", exclude_none=True) for row in failed), total=len(checked)
        )
    lines = [line for _, line, _ in checked if line is not None]
    if dry_run:
        report = [DemandImportRow(row=number, status="ok") for number, _, _ in checked]
        return DemandImportReport(rows=report, created=0, errors=0, dry_run=True)
    stored = await service.store_lines(session, round_id, owner, lines)
    report = [
        DemandImportRow(row=number, status="ok", demand_line_id=line.id)
        for (number, _, _), line in zip(checked, stored, strict=True)
    ]
    return DemandImportReport(rows=report, created=len(stored), errors=0, dry_run=False)
