"""Cursor pagination: opaque cursors over a stable sort key, capped page sizes."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Sequence
from typing import Annotated, Any, Generic, Protocol, TypeVar

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


def invalid_cursor() -> ProblemError:
    """A cursor that is not a next_cursor of this list (400 ``invalid_cursor``)."""
    return ProblemError(
        400, "invalid_cursor", "Invalid cursor", "Pass back a next_cursor exactly as received."
    )


def decode_cursor(cursor: str) -> dict[str, Any]:
    """The keyset position of a cursor; a 400 problem when it was tampered with."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        value = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, UnicodeDecodeError) as exc:
        raise invalid_cursor() from exc
    if not isinstance(value, dict):
        raise invalid_cursor()
    return value


def after_id(page: PageParams) -> uuid.UUID | None:
    """The position (last id of the previous page) of a list ordered by id alone.

    Raises:
        ProblemError: 400 ``invalid_cursor`` for a cursor such a list did not hand out.
    """
    if page.cursor is None:
        return None
    try:
        return uuid.UUID(str(page.cursor["after"]))
    except (KeyError, ValueError) as exc:
        raise invalid_cursor() from exc


class HasId(Protocol):
    """A row with an ``id`` (a typed row, an ORM object)."""

    @property
    def id(self) -> uuid.UUID: ...


RowT = TypeVar("RowT", bound=HasId)


def id_page(rows: Sequence[RowT], limit: int) -> tuple[list[RowT], str | None]:
    """The page out of ``limit + 1`` rows fetched in id order, and the cursor when more follow."""
    items = list(rows[:limit])
    if len(rows) <= limit:
        return items, None
    return items, encode_cursor({"after": str(items[-1].id)})


def page_params(
    cursor: Annotated[str | None, Query(description="next_cursor of the previous page")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
) -> PageParams:
    """FastAPI dependency for paginated lists."""
    return PageParams(cursor=decode_cursor(cursor) if cursor else None, limit=limit)
