"""The placements service: care units, capacity offers, bookings, the supervisor gate,
portal search, the term's planning rounds."""

from __future__ import annotations

import logging

from fastapi import FastAPI
from vfu_common.app_factory import ServiceDefinition, create_service_app
from vfu_domain.organisation_projection import projection_router

from placements.access_matrix import ACCESS
from placements.allocation.endpoints import router as allocation_router
from placements.bookings.endpoints import router as bookings_router
from placements.bookings.scheduler import run_lifecycle
from placements.calendar import CALENDAR
from placements.coverage.endpoints import router as coverage_router
from placements.demand.endpoints import router as demand_router
from placements.imports.endpoints import router as imports_router
from placements.offers.endpoints import router as offers_router
from placements.quotas.endpoints import router as quotas_router
from placements.rounds.endpoints import router as rounds_router
from placements.search.endpoints import router as search_router
from placements.settings import Settings
from placements.subscriptions import SUBSCRIPTIONS
from placements.supervision.endpoints import router as supervision_router
from placements.units.endpoints import router as units_router

_log = logging.getLogger(__name__)

DEFINITION = ServiceDefinition(
    name="placements",
    access=ACCESS,
    title="VFU placements",
    description=__doc__ or "",
    routers=[
        projection_router("placements"),
        coverage_router,
        units_router,
        # The import's fixed path must be routed before /offers/{offer_id}.
        imports_router,
        offers_router,
        bookings_router,
        quotas_router,
        rounds_router,
        allocation_router,
        demand_router,
        supervision_router,
        search_router,
    ],
    subscriptions=SUBSCRIPTIONS,
    background=[run_lifecycle],
)


def create_app(settings: Settings | None = None) -> FastAPI:
    """The ASGI app of the placements service."""
    settings = settings or Settings()
    if settings.calendar_file is not None:
        _log.warning("today is taken from %s (a development clock)", settings.calendar_file)
    CALENDAR.follow(settings.calendar_file)
    return create_service_app(DEFINITION, settings)
