"""A service's OpenAPI documents its error answers as they are sent: problem+json Problems.

Found by the schemathesis run (tests/api): FastAPI documented ``responses=`` problems
under ``application/json`` and FastAPI's own ``HTTPValidationError`` for 422s, while every
error leaves as ``application/problem+json`` with a Problem body.
"""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import jsonschema
from fastapi import APIRouter
from pydantic import BaseModel
from vfu_common.app_factory import ServiceDefinition, create_service_app
from vfu_common.errors import PROBLEM_CONTENT_TYPE, ProblemError, problem_responses
from vfu_common.settings import BaseServiceSettings
from vfu_testing.tokens import identity_headers
from vfu_testing.tokens import test_keypair as keypair

API = "/api/v1/things"


class Thing(BaseModel):
    name: str


def _app() -> Any:
    router = APIRouter(prefix=API)

    @router.get("/{thing_id}", responses=problem_responses(401, 404))
    async def read(thing_id: uuid.UUID) -> Thing:
        raise ProblemError(404, "thing_not_found", "Thing not found", f"No thing {thing_id}.")

    @router.get("")
    async def search(limit: int = 10) -> list[Thing]:  # FastAPI's own 422 only
        return [Thing(name="x")] * limit

    @router.put("/{thing_id}", responses=problem_responses(404))
    async def replace(thing_id: uuid.UUID, body: Thing) -> Thing:
        return body

    definition = ServiceDefinition(
        name="things", title="Things", description="", routers=[router], access=None
    )
    settings = BaseServiceSettings(internal_public_key=keypair()[1], log_level="WARNING")
    return create_service_app(definition, settings)


def _error_responses(document: dict[str, Any]) -> list[tuple[str, str, str, dict[str, Any]]]:
    return [
        (method, path, status, response)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        for status, response in operation["responses"].items()
        if status[0] in "45"
    ]


def test_every_error_response_is_a_problem_in_problem_json() -> None:
    """Including FastAPI's 422 and the 400 of an undecodable body."""
    document = _app().openapi()
    errors = _error_responses(document)
    assert {(m, p, s) for m, p, s, _ in errors} >= {
        ("get", f"{API}/{{thing_id}}", "404"),
        ("get", f"{API}/{{thing_id}}", "422"),
        ("get", API, "422"),
        ("put", f"{API}/{{thing_id}}", "400"),
        ("put", f"{API}/{{thing_id}}", "422"),
    }
    for method, path, status, response in errors:
        assert response["content"] == {
            PROBLEM_CONTENT_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}
        }, (method, path, status)
    schemas = document["components"]["schemas"]
    assert "HTTPValidationError" not in schemas
    assert "ValidationError" not in schemas
    assert schemas["Problem"]["required"] == ["type", "title", "status", "code"]


async def test_the_documented_schema_and_type_match_what_is_sent() -> None:
    app = _app()
    document = app.openapi()
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        headers = identity_headers(roles={"admin"})
        answers = {
            ("get", f"{API}/{{thing_id}}", "404"): await client.get(
                f"{API}/{uuid.uuid4()}", headers=headers
            ),
            ("get", f"{API}/{{thing_id}}", "422"): await client.get(
                f"{API}/not-a-uuid", headers=headers
            ),
            ("get", API, "422"): await client.get(API, params={"limit": "x"}, headers=headers),
            # Not UTF-8: FastAPI cannot even decode it, a 400 before validation.
            ("put", f"{API}/{{thing_id}}", "400"): await client.put(
                f"{API}/{uuid.uuid4()}",
                content=b'{"name": "\xff"}',
                headers={**headers, "content-type": "application/json"},
            ),
        }
    for (method, path, status), answer in answers.items():
        assert str(answer.status_code) == status, answer.text
        documented = document["paths"][path][method]["responses"][status]["content"]
        assert answer.headers["content-type"] in documented
        schema = {
            **documented[answer.headers["content-type"]]["schema"],
            "components": document["components"],
        }
        jsonschema.validate(answer.json(), schema)
