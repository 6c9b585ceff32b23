"""HTTP endpoints of the reports feature."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query
from vfu_common.errors import problem_responses
from vfu_common.utc import utcnow
from vfu_common.web.deps import DatabaseDep, PrincipalDep

from supervisors.reports.access import report_scope
from supervisors.reports.schemas import QualificationReportOut, ReportParams, TrainingDemandOut
from supervisors.reports.service import qualification_report, training_demand

router = APIRouter(prefix="/api/v1/supervisors/reports", tags=["supervisor reports"])


def _day(params: ReportParams) -> date:
    return params.on or utcnow().date()


@router.get(
    "/qualification",
    response_model=QualificationReportOut,
    responses=problem_responses(401, 403, 422),
    summary="Share of qualified supervisors per provider and unit, and lapsed qualifications",
)
async def read_qualification_report(
    params: Annotated[ReportParams, Query()], db: DatabaseDep, principal: PrincipalDep
) -> QualificationReportOut:
    """Active supervisors per provider and unit: how many are qualified against their
    profession's default level and against covering agreements' stricter requirements,
    and whose qualification lapsed. Ids, professions and counts only, no names."""
    scope = report_scope(principal, params.provider_id)
    async with db.read() as session:
        return await qualification_report(session, scope, _day(params))


@router.get(
    "/training-demand",
    response_model=TrainingDemandOut,
    responses=problem_responses(401, 403, 422),
    summary="Units whose offers need more qualified supervisors than they have",
)
async def read_training_demand(
    params: Annotated[ReportParams, Query()], db: DatabaseDep, principal: PrincipalDep
) -> TrainingDemandOut:
    """Per unit and profession, the supervisors its published, not yet ended offers need
    in their busiest term against the active qualified supervisors working there; only
    units short of supervisors, largest shortfall first."""
    scope = report_scope(principal, params.provider_id)
    async with db.read() as session:
        return await training_demand(session, scope, _day(params))
