"""Cursor pagination: opaque cursors over a stable sort key, capped page sizes."""

from __future__ import annotations

import base64
import json
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Query
from pydantic import BaseModel, Field

from vfu_common.errors import ProblemError

T = TypeVar("T")
MAX_LIMIT = 200
DEFAULT_LIMIT = 50


class Page(BaseModel, Generic[T]):
    """One page of a list; pass ``next_cursor`` back as ``cursor`` for the next one."""

    items: list[T]
    next_cursor: str | None = Field(default=None, description="Absent on the last page")


class PageParams(BaseModel):
    """Parsed ``cursor`` and ``limit`` query parameters."""

    cursor: dict[str, Any] | None
    limit: int


def encode_cursor(position: dict[str, Any]) -> str:
    """An opaque, URL-safe cursor for a keyset position."""
    raw = json.dumps(position, separators=(",", ":"), default=str).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> dict[str, Any]:
    """The keyset position of a cursor; a 400 problem when it was tampered with."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        value = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, UnicodeDecodeError) as exc:
        raise ProblemError(
            400, "invalid_cursor", "Invalid cursor", "Pass back a next_cursor exactly as received."
        ) from exc
    if not isinstance(value, dict):
        raise ProblemError(
            400, "invalid_cursor", "Invalid cursor", "Pass back a next_cursor exactly as received."
        )
    return value


def page_params(
    cursor: Annotated[str | None, Query(description="next_cursor of the previous page")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
) -> PageParams:
    """FastAPI dependency for paginated lists."""
    return PageParams(cursor=decode_cursor(cursor) if cursor else None, limit=limit)
