"""Problems raised by the offer import (stable codes)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from vfu_common.errors import ProblemError


def file_too_large(limit: int) -> ProblemError:
    """The upload is larger than the gateway's body limit."""
    return ProblemError(
        413, "payload_too_large", "Payload too large", f"The file is larger than {limit} bytes."
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
    return ProblemError(
        422, "import_empty", "Empty import", "The file has a header row but no offers."
    )


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
    """Neither a readable CSV nor a readable XLSX workbook."""
    return ProblemError(
        422, "import_unreadable", "File not readable", f"The file is not a readable {kind}."
    )


def has_errors(failed: Iterable[dict[str, Any]], total: int) -> ProblemError:
    """Some rows are invalid, so nothing was stored; ``errors`` lists those rows."""
    rows = list(failed)
    return ProblemError(
        422,
        "import_has_errors",
        "Import has errors",
        f"{len(rows)} of {total} rows have errors; nothing was stored. Fix them and upload "
        "the whole file again.",
        errors=rows,
    )
