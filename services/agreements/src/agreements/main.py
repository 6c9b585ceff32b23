"""The agreements service: organisations and VFU agreements."""

from __future__ import annotations

from fastapi import FastAPI
from vfu_common.app_factory import ServiceDefinition, create_service_app

from agreements.access_matrix import ACCESS
from agreements.contracting.endpoints import router as agreements_router
from agreements.contracting.scheduler import run_scheduler
from agreements.organisations.endpoints import router as organisations_router
from agreements.settings import Settings

DEFINITION = ServiceDefinition(
    access=ACCESS,
    name="agreements",
    title="VFU agreements",
    description="Organisations (parties) and 2..n-party VFU agreements.",
    routers=[organisations_router, agreements_router],
    background=[run_scheduler],
)


def create_app(settings: Settings | None = None) -> FastAPI:
    """The ASGI app of the agreements service."""
    return create_service_app(DEFINITION, settings or Settings())
