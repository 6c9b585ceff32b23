"""Bulk reports of training records: a row-by-row report, all-or-nothing or partial.

Each row is validated by ``TrainingRecordImportRow`` (the rules of the single report's
model, plus a course named by code), matched by the single report's ``Lookup`` and stored
by its ``store_reports``, so a bulk report accepts exactly what POST /training-records
accepts and reports the same codes. Unmatched rows are reported back, never dropped.

* ``all_or_nothing`` (the default): any failing row stores nothing; the answer is 422
  ``import_has_errors`` listing the failing rows.
* ``partial``: the valid rows are stored, together, in the request's one transaction
  with their events and qualifications; the others are reported.
* ``dry_run``: everything is checked and nothing stored.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession
from vfu_common import tabular
from vfu_common.errors import ProblemError
from vfu_common.principal import Principal

from supervisors.imports import errors
from supervisors.imports.schemas import (
    ImportMode,
    ImportProblem,
    RowStatus,
    TrainingImportReport,
    TrainingImportRow,
)
from supervisors.qualification.levels import RequiredLevels
from supervisors.training.matching import CourseRef, Lookup, MatchedReport, issuer_of_batch
from supervisors.training.schemas import TrainingRecordImportRow
from supervisors.training.service import store_reports

_log = logging.getLogger(__name__)

MAX_ROWS: Final = 5000
COLUMNS: Final = frozenset(TrainingRecordImportRow.model_fields)
REQUIRED_COLUMNS: Final = (
    ("course_id", "course_code"),
    ("supervisor_id", "hsa_id", "employer_reference"),
)
_CSV_TYPES: Final = frozenset({"text/csv", "application/csv", "text/plain"})
_XLSX_TYPE: Final = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


# --- reading the body ----------------------------------------------------------------------


def read_rows(content: bytes, content_type: str) -> list[tuple[int, dict[str, Any]]]:
    """The numbered rows of a CSV, XLSX or JSON body, by its Content-Type.

    Raises:
        ProblemError: 415 for another type; 422 ``import_unreadable``,
            ``import_bad_header``, ``import_empty``, ``import_too_large`` or
            ``import_bad_encoding``.
    """
    media_type = content_type.split(";", 1)[0].strip().lower()
    if media_type == "application/json":
        return _json_rows(content)
    if media_type in _CSV_TYPES or media_type == _XLSX_TYPE:
        sheet = tabular.read_sheet(content, max_rows=MAX_ROWS)
        tabular.check_header(sheet.header, allowed=COLUMNS, required=REQUIRED_COLUMNS)
        return [(number, dict(cells)) for number, cells in sheet.records()]
    raise errors.unsupported_media_type(media_type)


def _json_rows(content: bytes) -> list[tuple[int, dict[str, Any]]]:
    try:
        body = json.loads(content)
    except (ValueError, UnicodeDecodeError) as exc:
        raise tabular.unreadable("JSON document") from exc
    if not isinstance(body, dict) or set(body) != {"records"}:
        raise errors.bad_json_shape()
    records = body["records"]
    if not isinstance(records, list):
        raise errors.bad_json_shape()
    if not records:
        raise tabular.empty_import()
    if len(records) > MAX_ROWS:
        raise tabular.too_many_rows(MAX_ROWS)
    # A non-object row is validated (and refused) like any other, so it is reported in place.
    return list(enumerate(records, start=1))


# --- one row -------------------------------------------------------------------------------


@dataclass
class _Row:
    """One row on its way through validation, matching and storing."""

    number: int
    values: Any
    status: RowStatus = "valid"
    problems: list[ImportProblem] = field(default_factory=list)
    report: TrainingRecordImportRow | None = None
    matched: MatchedReport | None = None
    record_id: uuid.UUID | None = None

    def fail(self, column: str, code: str, message: str, *, status: RowStatus = "error") -> None:
        self.status = status
        self.problems.append(ImportProblem(field=column, code=code, message=message))

    def refuse(self, column: str, problem: ProblemError) -> None:
        unmatched = problem.code == "supervisor_not_matched"
        self.fail(
            column,
            problem.code,
            problem.detail or problem.title,
            status="unmatched" if unmatched else "error",
        )

    @property
    def ref(self) -> CourseRef:
        assert self.report is not None
        return CourseRef(self.report.course_id, self.report.course_code)

    def out(self) -> TrainingImportRow:
        first = self.problems[0] if self.problems else None
        return TrainingImportRow(
            row=self.number,
            status=self.status,
            code=first.code if first else None,
            field=first.field if first else None,
            message=first.message if first else None,
            problems=self.problems,
            record_id=self.record_id,
        )


def _validate(row: _Row) -> None:
    """Check the row with the shared model; report each failure on its field."""
    try:
        row.report = TrainingRecordImportRow.model_validate(row.values)
    except ValidationError as exc:
        for err in exc.errors():
            column = ".".join(str(part) for part in err["loc"])
            column = column or str((err.get("ctx") or {}).get("field", "row"))
            row.fail(column, err["type"], err["msg"])


def _match(row: _Row, lookup: Lookup, principal: Principal) -> None:
    """Find the row's course (the caller's own) and its active supervisor."""
    assert row.report is not None
    try:
        course = lookup.course(row.ref, principal)
    except ProblemError as problem:
        row.refuse("course_id" if row.report.course_id else "course_code", problem)
        return
    try:
        supervisor = lookup.supervisor(row.report)
    except ProblemError as problem:
        row.refuse("supervisor", problem)
        return
    row.matched = MatchedReport(row.report, course, supervisor)


def _claim(row: _Row, lookup: Lookup) -> None:
    """Refuse a row whose pair is stored already or taken by an earlier row."""
    assert row.matched is not None
    try:
        lookup.claim(row.matched.supervisor.id, row.matched.course.id)
    except ProblemError as problem:
        row.matched = None
        row.refuse("supervisor", problem)


# --- the import ----------------------------------------------------------------------------


async def import_records(
    session: AsyncSession,
    *,
    rows: Sequence[tuple[int, Any]],
    principal: Principal,
    levels: RequiredLevels,
    mode: ImportMode,
    dry_run: bool,
    issuer_id: uuid.UUID | None,
) -> TrainingImportReport:
    """Validate and match every row and store the valid ones as ``mode`` says.

    Raises:
        ProblemError: 422 ``import_has_errors`` (all_or_nothing with a failing row: the
            failing rows in ``errors``, nothing stored); 409 ``duplicate_training_record``
            when a concurrent report stored one of the pairs first (nothing stored).
    """
    work = [_Row(number, values) for number, values in rows]
    for row in work:
        _validate(row)
    valid = [row for row in work if row.report is not None]
    lookup = await Lookup.load(
        session,
        [(row.ref, row.report) for row in valid if row.report is not None],
        issuer_id=issuer_of_batch(principal, issuer_id),
    )
    for row in valid:
        _match(row, lookup, principal)
    matched = [row for row in work if row.matched is not None]
    await lookup.load_existing(
        session,
        ((r.matched.supervisor.id, r.matched.course.id) for r in matched if r.matched),
    )
    for row in matched:
        _claim(row, lookup)
    storable = [row for row in work if row.matched is not None]
    failed = [row for row in work if row.problems]
    _log_outcome(principal, rows=len(work), failed=len(failed), mode=mode, dry_run=dry_run)
    if failed and mode == "all_or_nothing":
        raise tabular.has_errors(
            (row.out().model_dump(mode="json", exclude_none=True) for row in failed),
            total=len(work),
        )
    if not dry_run and storable:
        views = await store_reports(
            session,
            [row.matched for row in storable if row.matched is not None],
            principal=principal,
            levels=levels,
        )
        for row, view in zip(storable, views, strict=True):
            row.status, row.record_id = "stored", view.id
    return TrainingImportReport(
        rows=[row.out() for row in work],
        stored=0 if dry_run else len(storable),
        errors=sum(row.status == "error" for row in work),
        unmatched=sum(row.status == "unmatched" for row in work),
        mode=mode,
        dry_run=dry_run,
    )


def _log_outcome(principal: Principal, *, rows: int, failed: int, mode: str, dry_run: bool) -> None:
    _log.info(
        "training record import by %s: %d rows, %d failing, mode=%s, dry_run=%s",
        principal.organisation_id or principal.subject,
        rows,
        failed,
        mode,
        dry_run,
    )
