"""HTTP endpoint of the offer import: upload a CSV or XLSX file of offers."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Query, Response, UploadFile, status
from vfu_common import tabular
from vfu_common.errors import problem_responses
from vfu_common.web.deps import DatabaseDep, PrincipalDep, require_roles

from placements.imports import service
from placements.imports.schemas import OfferImportReport

router = APIRouter(prefix="/api/v1/placements", tags=["capacity offers"])


@router.post(
    "/offers/import",
    response_model=OfferImportReport,
    dependencies=[require_roles("provider", "admin")],  # type: ignore[list-item]
    responses={
        **problem_responses(401, 403, 413, 422),
        201: {"model": OfferImportReport, "description": "Every row stored"},
    },
    summary="Import offers from CSV or XLSX, all or nothing",
)
async def import_offers(
    file: Annotated[UploadFile, File(description="CSV (UTF-8, ',' or ';') or XLSX")],
    db: DatabaseDep,
    principal: PrincipalDep,
    response: Response,
    dry_run: Annotated[bool, Query(description="Validate and report; store nothing")] = False,
    publish: Annotated[bool, Query(description="Publish the offers instead of drafts")] = False,
) -> OfferImportReport:
    """Validate every row like POST /offers. If all pass, store them in one transaction
    (201; with ``dry_run`` store nothing, 200); if any fails, store nothing and answer 422
    ``import_has_errors`` with the failing rows, each with field, code and message."""
    content = await file.read(service.MAX_BYTES + 1)
    if len(content) > service.MAX_BYTES:
        raise tabular.body_too_large(service.MAX_BYTES)
    async with db.write() as session:
        report = await service.import_offers(
            session, content=content, principal=principal, dry_run=dry_run, publish=publish
        )
    response.status_code = status.HTTP_200_OK if dry_run else status.HTTP_201_CREATED
    return report
