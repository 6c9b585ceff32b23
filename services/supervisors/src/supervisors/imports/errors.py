"""Problems raised by the bulk report of training records (stable codes).

The table-reading problems (``payload_too_large``, ``import_*``) are shared by every
import and live in ``vfu_common.tabular``.
"""

from __future__ import annotations

from vfu_common.errors import ProblemError


def unsupported_media_type(content_type: str) -> ProblemError:
    """Bulk reports are CSV, XLSX or JSON."""
    return ProblemError(
        415,
        "unsupported_media_type",
        "Unsupported media type",
        f"Send text/csv, an XLSX workbook or application/json, not {content_type or 'nothing'}.",
    )


def bad_json_shape() -> ProblemError:
    """A JSON body that is not {"records": [...]}."""
    return ProblemError(
        422,
        "import_unreadable",
        "Not readable",
        'A JSON bulk report is an object {"records": [...]} of record objects.',
    )
