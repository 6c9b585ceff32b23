"""The supervisors service: supervisors, training records, qualification."""

from __future__ import annotations

from fastapi import FastAPI
from vfu_common.projections.organisations import projection_router
from vfu_common.service import ServiceDefinition, create_service_app

from supervisors.access_matrix import ACCESS
from supervisors.settings import Settings
from supervisors.subscriptions import SUBSCRIPTIONS

DEFINITION = ServiceDefinition(
    access=ACCESS,
    name="supervisors",
    title="VFU supervisors",
    description=__doc__ or "",
    routers=[projection_router("supervisors")],
    subscriptions=SUBSCRIPTIONS,
)


def create_app(settings: Settings | None = None) -> FastAPI:
    """The ASGI app of the supervisors service."""
    return create_service_app(DEFINITION, settings or Settings())
