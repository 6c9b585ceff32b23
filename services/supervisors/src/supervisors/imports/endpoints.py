"""HTTP endpoint of the bulk training record report: a CSV, XLSX or JSON body."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response, status
from vfu_common import tabular
from vfu_common.errors import problem_responses
from vfu_common.web.deps import DatabaseDep, PrincipalDep

from supervisors.imports import service
from supervisors.imports.schemas import ImportMode, TrainingImportReport
from supervisors.qualification.levels import RequiredLevelsDep
from supervisors.training.schemas import TrainingRecordImportRow

router = APIRouter(prefix="/api/v1/supervisors", tags=["training records"])
# A JSON row is a TrainingRecordImportRow; its schema is inlined (it has no nested models,
# so no $defs) because FastAPI lists only the models a handler declares.
_ROW_SCHEMA: dict[str, Any] = TrainingRecordImportRow.model_json_schema()
if "$defs" in _ROW_SCHEMA:
    raise RuntimeError("TrainingRecordImportRow grew nested models: list them in components")
_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "text/csv": {"schema": {"type": "string"}},
            "application/json": {
                "schema": {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["records"],
                    "properties": {
                        "records": {
                            "type": "array",
                            "items": _ROW_SCHEMA,
                            "minItems": 1,
                            "maxItems": service.MAX_ROWS,
                        }
                    },
                }
            },
        },
    }
}


@router.post(
    "/training-records/import",
    response_model=TrainingImportReport,
    responses={
        **problem_responses(401, 403, 409, 413, 415, 422, 503),
        201: {"model": TrainingImportReport, "description": "Every row stored (all_or_nothing)"},
    },
    openapi_extra=_BODY,
    summary="Report training records in bulk (CSV or JSON)",
)
async def import_records(
    request: Request,
    db: DatabaseDep,
    principal: PrincipalDep,
    levels: RequiredLevelsDep,
    response: Response,
    mode: Annotated[
        ImportMode, Query(description="all_or_nothing stores nothing when a row fails")
    ] = "all_or_nothing",
    dry_run: Annotated[bool, Query(description="Validate and report; store nothing")] = False,
    issuer_id: Annotated[
        uuid.UUID | None, Query(description="Admins: whose course codes the rows use")
    ] = None,
) -> TrainingImportReport:
    """Rows name the course (``course_id`` or the caller's ``course_code``), the supervisor
    (``supervisor_id``, ``hsa_id``, or ``employer_id`` + ``employer_reference``), ``status``
    (default completed) and ``completed_on``; CSV is UTF-8 with ``,`` or ``;`` and a header
    row; JSON is ``{"records": [...]}``. At most 1 MiB (413 ``payload_too_large``) and 5,000
    rows (422 ``import_too_large``).

    Every row is checked like POST /training-records. ``all_or_nothing``: if any row fails
    nothing is stored and the answer is 422 ``import_has_errors`` with the failing rows;
    otherwise 201 (200 on a dry run). ``partial``: 200, the valid rows stored and the others
    reported (``error``, or ``unmatched`` when no supervisor matches)."""
    content = await tabular.read_capped(request.stream())
    rows = service.read_rows(content, request.headers.get("content-type", ""))
    async with db.write() as session:
        report = await service.import_records(
            session,
            rows=rows,
            principal=principal,
            levels=levels,
            mode=mode,
            dry_run=dry_run,
            issuer_id=issuer_id,
        )
    stored_whole = mode == "all_or_nothing" and not dry_run
    response.status_code = status.HTTP_201_CREATED if stored_whole else status.HTTP_200_OK
    return report
