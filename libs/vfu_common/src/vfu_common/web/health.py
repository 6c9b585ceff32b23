"""/healthz (process alive), /readyz (database and NATS), /metrics (Prometheus)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from vfu_common.errors import PROBLEM_CONTENT_TYPE, PROBLEM_TYPE_BASE

router = APIRouter(include_in_schema=False)


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """The process is alive."""
    return {"status": "ok"}


@router.get("/readyz")
async def readyz(request: Request) -> JSONResponse:
    """Ready when the database answers and NATS is connected."""
    runtime = request.app.state.runtime
    checks: dict[str, Any] = {}
    try:
        await runtime.db.ping()
        checks["database"] = "ok"
    except Exception as exc:
        checks["database"] = f"failing: {type(exc).__name__}"
    checks["nats"] = "ok" if runtime.nats.is_connected else "disconnected"
    ready = all(value == "ok" for value in checks.values())
    if ready:
        return JSONResponse({"status": "ready", "checks": checks})
    return JSONResponse(
        {
            "type": PROBLEM_TYPE_BASE + "not_ready",
            "title": "Not ready",
            "status": 503,
            "code": "not_ready",
            "checks": checks,
        },
        status_code=503,
        media_type=PROBLEM_CONTENT_TYPE,
        headers={"Retry-After": "2"},
    )


@router.get("/metrics")
async def metrics() -> Response:
    """Prometheus exposition of this process's metrics."""
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
