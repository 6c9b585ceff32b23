"""The supervisors service: supervisors, training records, qualification."""

from __future__ import annotations

from fastapi import FastAPI
from vfu_common.app_factory import ServiceDefinition, create_service_app
from vfu_domain.organisation_projection import projection_router

from supervisors.access_matrix import ACCESS
from supervisors.imports.endpoints import router as imports_router
from supervisors.registry.endpoints import router as registry_router
from supervisors.reports.endpoints import router as reports_router
from supervisors.settings import Settings
from supervisors.subscriptions import SUBSCRIPTIONS
from supervisors.training.endpoints import router as training_router

DEFINITION = ServiceDefinition(
    access=ACCESS,
    name="supervisors",
    title="VFU supervisors",
    description=__doc__ or "",
    routers=[
        projection_router("supervisors"),
        registry_router,
        # Fixed import paths must be routed before the training records' {record_id}.
        imports_router,
        training_router,
        reports_router,
    ],
    subscriptions=SUBSCRIPTIONS,
)


def create_app(settings: Settings | None = None) -> FastAPI:
    """The ASGI app of the supervisors service."""
    return create_service_app(DEFINITION, settings or Settings())
