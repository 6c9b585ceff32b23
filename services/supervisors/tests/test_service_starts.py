"""The service starts, migrates and answers its health checks."""

from __future__ import annotations

from services.supervisors.tests.conftest import RunningService


async def test_ready(supervisors_service: RunningService) -> None:
    response = await supervisors_service.client.get("/readyz")
    assert response.status_code == 200, response.text
