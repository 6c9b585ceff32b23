"""RFC 9457 problem details with stable codes, and the handlers that render them.

Every error a client sees is ``application/problem+json`` with a ``type`` URI and a
machine-readable ``code`` that never changes once published. No stack trace or internal
detail leaves the process.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy.exc import OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import Send

PROBLEM_CONTENT_TYPE = "application/problem+json"
PROBLEM_TYPE_BASE = "urn:vfu:problem:"
_log = logging.getLogger(__name__)

_STATUS_CODES = {
    400: "bad_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "rate_limited",
    500: "internal_error",
    502: "bad_gateway",
    503: "service_unavailable",
    504: "gateway_timeout",
}


class Problem(BaseModel):
    """The body of every error response (RFC 9457); some problems add extension members
    (e.g. ``quota`` on ``quota_exceeded``)."""

    model_config = ConfigDict(extra="allow")

    type: str = Field(description="Stable URI identifying the problem type")
    title: str
    status: int
    code: str = Field(description="Stable machine-readable code, e.g. capacity_exceeded")
    detail: str | None = None
    instance: str | None = None
    errors: list[dict[str, Any]] | None = Field(
        default=None, description="Per-field validation errors (422 only)"
    )


class ProblemError(Exception):
    """Raise anywhere in a request to answer with a problem document."""

    def __init__(
        self,
        status: int,
        code: str,
        title: str,
        detail: str | None = None,
        *,
        headers: Mapping[str, str] | None = None,
        errors: list[dict[str, Any]] | None = None,
        extensions: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(f"{code}: {detail or title}")
        self.status = status
        self.code = code
        self.title = title
        self.detail = detail
        self.headers = dict(headers or {})
        self.errors = errors
        # RFC 9457 extension members: what a client needs to act on the problem (e.g. the
        # quota a booking would pass), as JSON values beside the standard members.
        self.extensions = dict(extensions or {})


def problem_response(
    status: int,
    code: str,
    title: str,
    detail: str | None = None,
    *,
    instance: str | None = None,
    headers: Mapping[str, str] | None = None,
    errors: list[dict[str, Any]] | None = None,
    extensions: Mapping[str, Any] | None = None,
) -> JSONResponse:
    """Build a problem+json response (``extensions``: members beside the standard ones)."""
    body = Problem(
        type=PROBLEM_TYPE_BASE + code,
        title=title,
        status=status,
        code=code,
        detail=detail,
        instance=instance,
        errors=errors,
    )
    return JSONResponse(
        {**(extensions or {}), **body.model_dump(exclude_none=True)},
        status_code=status,
        headers=dict(headers or {}),
        media_type=PROBLEM_CONTENT_TYPE,
    )


def problem_bytes(status: int, code: str, title: str, detail: str | None = None) -> bytes:
    """Serialise a problem body for raw ASGI code paths (the gateway's proxy)."""
    body = Problem(
        type=PROBLEM_TYPE_BASE + code, title=title, status=status, code=code, detail=detail
    )
    return body.model_dump_json(exclude_none=True).encode()


def is_database_busy(exc: BaseException) -> bool:
    """True when SQLite reports a lock that outlasted busy_timeout."""
    return isinstance(exc, OperationalError) and "locked" in str(exc.orig).lower()


async def _problem_error_handler(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ProblemError)
    return problem_response(
        exc.status,
        exc.code,
        exc.title,
        exc.detail,
        instance=request.url.path,
        headers=exc.headers,
        errors=exc.errors,
        extensions=exc.extensions,
    )


async def _http_exception_handler(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = _STATUS_CODES.get(exc.status_code, "error")
    title = code.replace("_", " ").capitalize()
    detail = exc.detail if isinstance(exc.detail, str) and exc.detail != title else None
    return problem_response(
        exc.status_code,
        code,
        title,
        detail,
        instance=request.url.path,
        headers=getattr(exc, "headers", None),
    )


_VALIDATION = ("validation_error", "Request validation failed")
_VALIDATION_DETAIL = "One or more fields are invalid; see errors."


def validation_errors(
    raw: Sequence[Any], location: Sequence[str | int] = ()
) -> list[dict[str, Any]]:
    """Pydantic's errors as the problem's ``errors`` list, each ``loc`` under ``location``."""
    return [
        {
            "loc": [*location, *err.get("loc", ())],
            "msg": err.get("msg", ""),
            "type": err.get("type", ""),
        }
        for err in raw
    ]


def validation_problem(exc: ValidationError, location: Sequence[str] = ("body",)) -> ProblemError:
    """The 422 a request gets when a model is validated in code, not by FastAPI (for
    rules checked after merging a partial update into the stored state)."""
    return ProblemError(
        422, *_VALIDATION, _VALIDATION_DETAIL, errors=validation_errors(exc.errors(), location)
    )


async def _validation_handler(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    return problem_response(
        422,
        *_VALIDATION,
        _VALIDATION_DETAIL,
        instance=request.url.path,
        errors=validation_errors(exc.errors()),
    )


async def _unhandled_handler(request: Request, exc: Exception) -> JSONResponse:
    if is_database_busy(exc):
        return problem_response(
            503,
            "database_busy",
            "Database busy",
            "Try again shortly.",
            instance=request.url.path,
            headers={"Retry-After": "1"},
        )
    _log.exception("unhandled error on %s %s", request.method, request.url.path)
    return problem_response(500, "internal_error", "Internal error", instance=request.url.path)


def install_problem_handlers(app: FastAPI) -> None:
    """Render every error of the app as problem+json."""
    app.add_exception_handler(ProblemError, _problem_error_handler)
    app.add_exception_handler(StarletteHTTPException, _http_exception_handler)
    app.add_exception_handler(RequestValidationError, _validation_handler)
    app.add_exception_handler(Exception, _unhandled_handler)


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses=`` entries documenting problem answers."""
    return {
        status: {
            "model": Problem,
            "content": {PROBLEM_CONTENT_TYPE: {}},
            "description": _STATUS_CODES.get(status, "error"),
        }
        for status in statuses
    }


_PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}
# FastAPI documents its own 422 body with these; ours is a Problem (the handler above).
_FASTAPI_VALIDATION_SCHEMAS = ("HTTPValidationError", "ValidationError")


def document_problems(document: dict[str, Any]) -> dict[str, Any]:
    """Make an OpenAPI document say what error answers really are: problem+json Problems.

    FastAPI puts a ``responses=`` model under ``application/json`` (the route's media
    type) and documents every 422 as its own ``HTTPValidationError``; the handlers here
    send neither. Every 4xx/5xx response of ``document`` becomes ``application/problem+json``
    with the Problem schema, in place, so clients and schema checks see the real bodies;
    an operation with a request body also documents the 400 an undecodable body gets.
    """
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    schemas.setdefault(
        "Problem", Problem.model_json_schema(ref_template="#/components/schemas/{model}")
    )
    for item in document.get("paths", {}).values():
        for operation in item.values():
            if not isinstance(operation, dict):
                continue
            responses = operation.setdefault("responses", {})
            if "requestBody" in operation and "400" not in responses:
                # A body that cannot be decoded at all (not UTF-8) is a 400 before
                # validation; a decodable but invalid one is a 422.
                responses["400"] = {"description": _STATUS_CODES[400]}
            for status, response in responses.items():
                if str(status)[:1] in ("4", "5"):
                    response["content"] = {PROBLEM_CONTENT_TYPE: {"schema": dict(_PROBLEM_REF)}}
    validation = {
        name: schemas.pop(name) for name in _FASTAPI_VALIDATION_SCHEMAS if name in schemas
    }
    if validation and any(
        ref.rsplit("/", 1)[-1] in validation for ref in _refs(document)
    ):  # still used somewhere else (a route's own model): keep them
        schemas.update(validation)
    return document


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return found + [ref for value in node.values() for ref in _refs(value)]
    if isinstance(node, list):
        return [ref for value in node for ref in _refs(value)]
    return []


async def send_problem(
    send: Send,
    status: int,
    code: str,
    title: str,
    detail: str,
    *,
    headers: list[tuple[bytes, bytes]] | None = None,
) -> None:
    """Answer with a problem document from raw ASGI code (middleware, the gateway's proxy)."""
    body = problem_bytes(status, code, title, detail)
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/problem+json"),
                (b"content-length", str(len(body)).encode()),
                *(headers or []),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
