"""The access matrix's view of a service's operations is its OpenAPI document's.

Apps check their access matrix at start-up from FastAPI's route contexts, not from the
OpenAPI document (which costs a third of a second to build); this holds the two equal
for every service, so a route the document shows cannot slip past the matrix.
"""

from __future__ import annotations

from typing import Any

import pytest
from agreements.main import create_app as agreements_app
from agreements.settings import Settings as AgreementsSettings
from placements.main import create_app as placements_app
from placements.settings import Settings as PlacementsSettings
from supervisors.main import create_app as supervisors_app
from supervisors.settings import Settings as SupervisorsSettings
from vfu_common.access import _operations, operation_key
from vfu_testing.tokens import test_keypair

APPS = {
    "agreements": (agreements_app, AgreementsSettings),
    "placements": (placements_app, PlacementsSettings),
    "supervisors": (supervisors_app, SupervisorsSettings),
}


@pytest.mark.parametrize("service", sorted(APPS))
def test_the_routes_give_the_operations_the_openapi_document_lists(service: str) -> None:
    create_app, settings = APPS[service]
    app: Any = create_app(
        settings(
            database_url="sqlite+aiosqlite:///unused.db",
            nats_url="nats://127.0.0.1:1",
            internal_public_key=test_keypair()[1],
        )
    )
    documented = {
        operation_key(method, path)
        for path, item in app.openapi()["paths"].items()
        if path.startswith("/api/")
        for method in item
    }
    assert len(documented) > 10
    assert _operations(app) == documented
