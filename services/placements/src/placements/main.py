"""The placements service: care units, capacity offers, bookings, portal search."""

from __future__ import annotations

from fastapi import FastAPI
from vfu_common.projections.organisations import projection_router
from vfu_common.service import ServiceDefinition, create_service_app

from placements.coverage.endpoints import router as coverage_router
from placements.settings import Settings
from placements.subscriptions import SUBSCRIPTIONS

DEFINITION = ServiceDefinition(
    name="placements",
    title="VFU placements",
    description=__doc__ or "",
    routers=[projection_router("placements"), coverage_router],
    subscriptions=SUBSCRIPTIONS,
)


def create_app(settings: Settings | None = None) -> FastAPI:
    """The ASGI app of the placements service."""
    return create_service_app(DEFINITION, settings or Settings())
