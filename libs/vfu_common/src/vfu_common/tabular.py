"""Reading uploaded tables (CSV or XLSX) for bulk imports: limits, header, rows of text.

Swedish Excel saves CSV with ``;`` (the comma is the decimal separator) and often with a
byte-order mark, so both separators and the BOM are accepted. XLSX cells arrive typed
(dates, numbers, booleans); they are turned into the text a CSV would hold, so both
formats reach a feature's validation identically and every rule stays in its model.
Limits are enforced while reading, so a huge body or a decompression-bomb workbook stops
at the cap instead of filling memory. The problems raised carry the stable codes every
import shares (``payload_too_large``, ``import_*``).
"""

from __future__ import annotations

import csv
import io
import warnings
from collections.abc import AsyncIterable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Final

from vfu_common.errors import ProblemError

ZIP_MAGIC: Final = b"PK\x03\x04"  # XLSX is a zip archive
#: Wider than any real import sheet; bounds what a hostile header can make us read.
MAX_COLUMNS: Final = 64
#: The gateway refuses larger bodies anyway (GATEWAY_MAX_BODY_BYTES).
MAX_BYTES: Final = 1024 * 1024


# --- problems ------------------------------------------------------------------------------


def body_too_large(limit: int) -> ProblemError:
    """The upload is larger than an import may be."""
    return ProblemError(
        413, "payload_too_large", "Payload too large", f"The body is larger than {limit} bytes."
    )


def too_many_rows(limit: int) -> ProblemError:
    """More data rows than one import may hold."""
    return ProblemError(
        422,
        "import_too_large",
        "Import too large",
        f"An import holds at most {limit} rows; split the file.",
    )


def empty_import() -> ProblemError:
    """A header without data rows, or nothing at all."""
    return ProblemError(422, "import_empty", "Empty import", "The import holds no data rows.")


def bad_header(detail: str) -> ProblemError:
    """Unknown, duplicate or missing columns."""
    return ProblemError(422, "import_bad_header", "Bad header row", detail)


def bad_encoding() -> ProblemError:
    """A CSV that is not UTF-8 (e.g. Excel's legacy 'CSV (semicolon)' in Windows-1252)."""
    return ProblemError(
        422,
        "import_bad_encoding",
        "Not UTF-8",
        "Save the CSV as UTF-8 ('CSV UTF-8' in Excel), or upload the XLSX file.",
    )


def unreadable(kind: str) -> ProblemError:
    """Neither a readable CSV nor a readable XLSX workbook (nor JSON, for JSON imports)."""
    return ProblemError(
        422, "import_unreadable", "Not readable", f"The body is not a readable {kind}."
    )


def has_errors(failed: Iterable[dict[str, Any]], total: int) -> ProblemError:
    """Some rows are invalid, so nothing was stored; ``errors`` lists those rows."""
    rows = list(failed)
    return ProblemError(
        422,
        "import_has_errors",
        "Import has errors",
        f"{len(rows)} of {total} rows have errors; nothing was stored. Fix them and send "
        "the whole import again.",
        errors=rows,
    )


# --- reading -------------------------------------------------------------------------------


async def read_capped(chunks: AsyncIterable[bytes], *, max_bytes: int = MAX_BYTES) -> bytes:
    """The whole body of ``chunks`` (e.g. ``request.stream()``), refused past ``max_bytes``.

    Raises:
        ProblemError: 413 ``payload_too_large`` as soon as the cap is passed.
    """
    buffer = bytearray()
    async for chunk in chunks:
        buffer.extend(chunk)
        if len(buffer) > max_bytes:
            raise body_too_large(max_bytes)
    return bytes(buffer)


@dataclass(frozen=True)
class Sheet:
    """The header (lower-cased, trimmed) and the non-empty data rows with their numbers.

    Row numbers are spreadsheet rows: the header is row 1, so the first data row is 2.
    """

    header: list[str]
    rows: list[tuple[int, list[str]]]

    def records(self) -> list[tuple[int, dict[str, str]]]:
        """Each row as {column: trimmed text}, empty cells left out, with its number.

        Cells beyond the header are kept under ``column <n>`` so a caller can report them.
        """
        out = []
        for number, cells in self.rows:
            record: dict[str, str] = {}
            for index, text in enumerate(cells):
                name = self.header[index] if index < len(self.header) else f"column {index + 1}"
                if text.strip():
                    record[name] = text.strip()
            out.append((number, record))
        return out


def read_sheet(content: bytes, *, max_rows: int) -> Sheet:
    """Parse an uploaded CSV (UTF-8, ``,`` or ``;``) or XLSX file.

    Raises:
        ProblemError: 422 ``import_unreadable``, ``import_bad_encoding``,
            ``import_empty`` or ``import_too_large``.
    """
    lines = _xlsx_lines(content) if content.startswith(ZIP_MAGIC) else _csv_lines(content)
    return _sheet(lines, max_rows=max_rows)


def check_header(
    header: Sequence[str], *, allowed: Iterable[str], required: Iterable[Sequence[str]] = ()
) -> None:
    """Refuse unnamed, unknown, duplicate or missing columns (422 ``import_bad_header``).

    Args:
        header: The sheet's header.
        allowed: Every column an import may have.
        required: Groups of columns of which at least one must be present each.
    """
    allowed = frozenset(allowed)
    problems: list[str] = []
    unnamed = [str(i + 1) for i, name in enumerate(header) if not name]
    if unnamed:
        problems.append(f"columns without a name: {', '.join(unnamed)}")
    unknown = sorted({name for name in header if name and name not in allowed})
    if unknown:
        problems.append(f"unknown columns: {', '.join(unknown)}")
    duplicates = sorted({name for name in header if name and header.count(name) > 1})
    if duplicates:
        problems.append(f"duplicate columns: {', '.join(duplicates)}")
    missing = [" or ".join(group) for group in required if not any(c in header for c in group)]
    if missing:
        problems.append(f"missing columns: {', '.join(missing)}")
    if problems:
        raise bad_header(f"{'; '.join(problems)}. Allowed columns: {', '.join(sorted(allowed))}.")


def _sheet(lines: Iterator[list[str]], *, max_rows: int) -> Sheet:
    header = next(lines, None)
    if header is None:
        raise empty_import()
    header = [name.strip().lower() for name in header]
    while header and not header[-1]:  # formatted but unused columns at the right
        header.pop()
    rows: list[tuple[int, list[str]]] = []
    for number, cells in enumerate(lines, start=2):
        if not any(cell.strip() for cell in cells):
            continue  # blank lines between or after the data
        if len(rows) == max_rows:
            raise too_many_rows(max_rows)
        rows.append((number, cells))
    if not rows:
        raise empty_import()
    return Sheet(header, rows)


def _csv_lines(content: bytes) -> Iterator[list[str]]:
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise bad_encoding() from exc
    first_line = text.split("\n", 1)[0]
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    return _guarded_csv(reader)


def _guarded_csv(reader: Iterable[list[str]]) -> Iterator[list[str]]:
    try:
        for cells in reader:
            yield cells[:MAX_COLUMNS]
    except csv.Error as exc:
        raise unreadable("CSV file") from exc


def _xlsx_lines(content: bytes) -> Iterator[list[str]]:
    # Imported here: openpyxl is heavy and only XLSX uploads need it.
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
        raise unreadable("XLSX workbook") from exc


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


# Swedish spreadsheets say ja/nej, and Swedish Excel exports booleans as SANT/FALSKT.
_SWEDISH_BOOLEANS: Final = {"ja": "true", "sant": "true", "nej": "false", "falskt": "false"}


def boolean_text(text: str) -> str:
    """A cell's yes or no as the ``true``/``false`` a model reads (other text unchanged,
    so the model reports it)."""
    return _SWEDISH_BOOLEANS.get(text.lower(), text)


def list_cell(text: str, separator: str = "|") -> list[str]:
    """A cell holding several values, ``a|b|c``, as its non-empty trimmed parts."""
    return [part.strip() for part in text.split(separator) if part.strip()]
