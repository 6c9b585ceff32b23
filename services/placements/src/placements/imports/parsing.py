"""Reading an offer file, CSV or XLSX, into a header and rows of text cells.

Coordinators keep offers in spreadsheets: Swedish Excel saves CSV with ``;`` (the comma
is the decimal separator) and often with a byte-order mark, so both separators and the
BOM are accepted. XLSX cells arrive typed (dates, numbers, booleans); they are turned
into the text a CSV would hold, so both formats reach validation identically and every
rule stays in the offer model. Limits are enforced while reading, so a huge or
decompression-bomb workbook stops at the row cap instead of filling memory.
"""

from __future__ import annotations

import csv
import io
import warnings
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Final

from placements.imports import errors

ZIP_MAGIC: Final = b"PK\x03\x04"  # XLSX is a zip archive
# Wider than any real offer sheet; bounds what a hostile header can make us read.
MAX_COLUMNS: Final = 64


@dataclass(frozen=True)
class Sheet:
    """The header (lower-cased, trimmed) and the non-empty data rows with their numbers.

    Row numbers are spreadsheet rows: the header is row 1, so the first data row is 2.
    """

    header: list[str]
    rows: list[tuple[int, list[str]]]


def read_sheet(content: bytes, *, max_rows: int) -> Sheet:
    """Parse an uploaded CSV or XLSX file.

    Raises:
        ProblemError: 422 ``import_unreadable``, ``import_bad_encoding``,
            ``import_empty`` or ``import_too_large``.
    """
    lines = _xlsx_lines(content) if content.startswith(ZIP_MAGIC) else _csv_lines(content)
    return _sheet(lines, max_rows=max_rows)


def _sheet(lines: Iterator[list[str]], *, max_rows: int) -> Sheet:
    header = next(lines, None)
    if header is None:
        raise errors.empty_import()
    header = [name.strip().lower() for name in header]
    while header and not header[-1]:  # formatted but unused columns at the right
        header.pop()
    rows: list[tuple[int, list[str]]] = []
    for number, cells in enumerate(lines, start=2):
        if not any(cell.strip() for cell in cells):
            continue  # blank lines between or after the offers
        if len(rows) == max_rows:
            raise errors.too_many_rows(max_rows)
        rows.append((number, cells))
    if not rows:
        raise errors.empty_import()
    return Sheet(header, rows)


def _csv_lines(content: bytes) -> Iterator[list[str]]:
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise errors.bad_encoding() from exc
    first_line = text.split("\n", 1)[0]
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    return _guarded_csv(reader)


def _guarded_csv(reader: Iterable[list[str]]) -> Iterator[list[str]]:
    try:
        for cells in reader:
            yield cells[:MAX_COLUMNS]
    except csv.Error as exc:
        raise errors.unreadable("CSV file") from exc


def _xlsx_lines(content: bytes) -> Iterator[list[str]]:
    # Imported here: openpyxl is heavy and only this endpoint needs it.
    from openpyxl import load_workbook

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # style and extension warnings of real workbooks
            book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
        try:
            for values in book.worksheets[0].iter_rows(max_col=MAX_COLUMNS, values_only=True):
                yield [cell_text(value) for value in values]
        finally:
            book.close()
    except Exception as exc:  # whatever a malformed workbook raises is the upload's fault
        raise errors.unreadable("XLSX workbook") from exc


def cell_text(value: Any) -> str:
    """An XLSX cell as the text a CSV export would hold."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
