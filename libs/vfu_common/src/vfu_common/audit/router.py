"""``GET /api/v1/<service>/audit``: the service's audit records, newest first.

Admins see every record. Any other caller sees only the records of its own organisation,
so a university can show what its own staff did but not what another party did; portals
(anonymous read-only search) see none.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel
from sqlalchemy import Select, and_, or_, select

from vfu_common.audit.tables import audit_log
from vfu_common.errors import ProblemError, problem_responses
from vfu_common.pagination import Page, encode_cursor
from vfu_common.principal import Principal
from vfu_common.web.deps import DatabaseDep, PageDep, PrincipalDep


class AuditRecordOut(BaseModel):
    """One audited request."""

    id: uuid.UUID
    occurred_at: datetime
    subject: str
    organisation_id: uuid.UUID | None
    roles: list[str]
    method: str
    route: str
    object_id: str | None
    status: int
    outcome: str
    request_id: str | None


def _forbidden(detail: str) -> ProblemError:
    return ProblemError(403, "forbidden", "Forbidden", detail)


def visible_organisation(principal: Principal, requested: uuid.UUID | None) -> uuid.UUID | None:
    """The organisation whose records the caller may read (None: every record)."""
    if principal.has_role("admin"):
        return requested
    if principal.has_role("portal") or principal.organisation_id is None:
        raise _forbidden("The audit log is not readable with these credentials.")
    if requested is not None and requested != principal.organisation_id:
        raise _forbidden("Only your own organisation's audit records are readable.")
    return principal.organisation_id


def _after(cursor: dict[str, Any]) -> Any:
    """The keyset condition: strictly older than the last record of the previous page."""
    try:
        occurred_at = datetime.fromisoformat(str(cursor["t"]))
        last_id = uuid.UUID(str(cursor["id"]))
    except (KeyError, ValueError) as exc:
        raise ProblemError(
            400, "invalid_cursor", "Invalid cursor", "Pass back a next_cursor exactly as received."
        ) from exc
    return or_(
        audit_log.c.occurred_at < occurred_at,
        and_(audit_log.c.occurred_at == occurred_at, audit_log.c.id < last_id),
    )


def _query(
    organisation_id: uuid.UUID | None,
    object_id: str | None,
    since: datetime | None,
    until: datetime | None,
) -> Select[Any]:
    stmt = select(audit_log)
    if organisation_id is not None:
        stmt = stmt.where(audit_log.c.organisation_id == organisation_id)
    if object_id is not None:
        stmt = stmt.where(audit_log.c.object_id == object_id)
    if since is not None:
        stmt = stmt.where(audit_log.c.occurred_at >= since)
    if until is not None:
        stmt = stmt.where(audit_log.c.occurred_at < until)
    return stmt


def _aware(value: datetime | None) -> datetime | None:
    """Query times without an offset are taken as UTC, like every stored time."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


def audit_router(service: str) -> APIRouter:
    """The audit query endpoint of ``service``."""
    router = APIRouter(prefix=f"/api/v1/{service}/audit", tags=["audit"])

    @router.get(
        "",
        response_model=Page[AuditRecordOut],
        responses=problem_responses(400, 401, 403, 422),
        summary="Audit records of this service, newest first",
    )
    async def list_audit_records(
        db: DatabaseDep,
        principal: PrincipalDep,
        page: PageDep,
        organisation_id: Annotated[uuid.UUID | None, Query()] = None,
        object_id: Annotated[str | None, Query(max_length=100)] = None,
        since: Annotated[datetime | None, Query(description="Inclusive lower bound")] = None,
        until: Annotated[datetime | None, Query(description="Exclusive upper bound")] = None,
    ) -> Page[AuditRecordOut]:
        visible = visible_organisation(principal, organisation_id)
        stmt = _query(visible, object_id, _aware(since), _aware(until))
        if page.cursor is not None:
            stmt = stmt.where(_after(page.cursor))
        stmt = stmt.order_by(audit_log.c.occurred_at.desc(), audit_log.c.id.desc())
        async with db.read() as session:
            rows = (await session.execute(stmt.limit(page.limit + 1))).all()
        items = [_record(row) for row in rows[: page.limit]]
        more = len(rows) > page.limit
        last = items[-1] if more else None
        return Page(
            items=items,
            next_cursor=encode_cursor({"t": last.occurred_at.isoformat(), "id": str(last.id)})
            if last
            else None,
        )

    return router


def _record(row: Any) -> AuditRecordOut:
    return AuditRecordOut(
        id=row.id,
        occurred_at=row.occurred_at,
        subject=row.subject,
        organisation_id=row.organisation_id,
        roles=[role for role in row.roles.split(",") if role],
        method=row.method,
        route=row.route,
        object_id=row.object_id,
        status=row.status,
        outcome=row.outcome,
        request_id=row.request_id,
    )
