"""``Idempotency-Key`` for creating requests.

The first successful response is stored per (client, key) in the same transaction as the
change it describes, so a stored response always matches what was written and a rolled
back request leaves no key behind (the client may retry it). A replay with the same body
gets the stored response again; the same key with a different body is 422
``idempotency_key_reused``. The claim is one ``INSERT … ON CONFLICT DO NOTHING``: the
common case (a new key) costs that statement and the final update, and only a replay
reads the stored row. Two concurrent requests with one key: on PostgreSQL the second
one's insert waits for the first transaction; after its commit the second reads the
stored response (a replay), and if it could still see the key unanswered it is told 409
``idempotency_key_in_use`` (retry to get the replay). On SQLite writers are serialised,
so the second simply sees the stored response.

Usage inside one ``db.write()`` unit of work::

    guard = IdempotencyGuard.for_request(principal.subject, key, "POST /bookings", body)
    if (stored := await guard.claim(session)) is not None:
        return stored.as_response()
    ... do the work ...
    await guard.remember(session, 201, out.model_dump_json())
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Annotated, Any, Final

from fastapi import Header
from fastapi.responses import Response
from sqlalchemy import Column, Integer, String, Table, Text, bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from vfu_common.db import UtcDateTime, insert_ignore, new_metadata
from vfu_common.errors import ProblemError
from vfu_common.utc import utcnow

metadata = new_metadata()

TABLE: Final = "idempotency_keys"
KEY_MAX_LENGTH: Final = 200
REPLAY_HEADER: Final = "Idempotent-Replayed"


def _columns() -> list[Any]:
    return [
        Column("client", String(255), primary_key=True),
        Column("key", String(KEY_MAX_LENGTH), primary_key=True),
        Column("operation", String(100), nullable=False),
        # SHA-256 of the operation and the canonical request body.
        Column("fingerprint", String(64), nullable=False),
        # NULL only inside the claiming transaction, never after a commit.
        Column("status_code", Integer, nullable=True),
        Column("response_body", Text, nullable=True),
        Column("created_at", UtcDateTime, nullable=False),
    ]


idempotency_keys = Table(TABLE, metadata, *_columns())


IdempotencyKeyHeader = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=KEY_MAX_LENGTH,
        pattern=r"^[\x21-\x7e]+$",
        description="Any printable string unique per intended request; a retry with the "
        "same key and body returns the first response instead of acting twice.",
    ),
]


def fingerprint(operation: str, body: Any) -> str:
    """A digest of the operation and the body, independent of key order in the JSON."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(f"{operation}\n{canonical}".encode()).hexdigest()


@dataclass(frozen=True)
class StoredResponse:
    """The first response given under a key."""

    status_code: int
    body: str

    def as_response(self) -> Response:
        """The stored response, marked as a replay."""
        return Response(
            content=self.body,
            status_code=self.status_code,
            media_type="application/json",
            headers={REPLAY_HEADER: "true"},
        )


# Built once: every booking stores its answer with it.
_REMEMBER = (
    update(idempotency_keys)
    .where(
        idempotency_keys.c.client == bindparam("of_client"),
        idempotency_keys.c.key == bindparam("of_key"),
    )
    .values(status_code=bindparam("answer_status"), response_body=bindparam("answer_body"))
)


@dataclass(frozen=True)
class IdempotencyGuard:
    """One request's claim on its key; a no-op when the client sent no key."""

    client: str
    key: str | None
    operation: str
    fingerprint: str

    @classmethod
    def for_request(
        cls, client: str, key: str | None, operation: str, body: Any
    ) -> IdempotencyGuard:
        """A guard for ``body`` (a JSON-able value, e.g. ``model.model_dump(mode="json")``)."""
        return cls(client, key, operation, fingerprint(operation, body))

    async def claim(self, session: AsyncSession) -> StoredResponse | None:
        """The stored response of an earlier request with this key, or claim the key.

        Raises:
            ProblemError: 422 when the key was used with another body or operation, 409
                when a concurrent request holds the key.
        """
        if self.key is None:
            return None
        claimed = await insert_ignore(
            session,
            idempotency_keys,
            {
                "client": self.client,
                "key": self.key,
                "operation": self.operation,
                "fingerprint": self.fingerprint,
                "created_at": utcnow(),
            },
        )
        if claimed:
            return None
        stored = await self._stored(session)
        if stored is None:  # the key's row exists but holds no answer we may see yet
            raise ProblemError(
                409,
                "idempotency_key_in_use",
                "Idempotency key in use",
                "Another request with this Idempotency-Key is in progress; retry shortly.",
                headers={"Retry-After": "1"},
            )
        return stored

    async def _stored(self, session: AsyncSession) -> StoredResponse | None:
        row = (
            await session.execute(
                select(
                    idempotency_keys.c.fingerprint,
                    idempotency_keys.c.status_code,
                    idempotency_keys.c.response_body,
                ).where(
                    idempotency_keys.c.client == self.client,
                    idempotency_keys.c.key == self.key,
                )
            )
        ).one_or_none()
        if row is None:
            return None
        if row.fingerprint != self.fingerprint:
            raise ProblemError(
                422,
                "idempotency_key_reused",
                "Idempotency key reused",
                "This Idempotency-Key was used for a different request; use a new key.",
            )
        if row.status_code is None:
            return None
        return StoredResponse(row.status_code, row.response_body)

    async def remember(self, session: AsyncSession, status_code: int, body: str) -> None:
        """Store the response under the claimed key (same transaction as the change)."""
        if self.key is None:
            return
        await session.execute(
            _REMEMBER,
            {
                "of_client": self.client,
                "of_key": self.key,
                "answer_status": status_code,
                "answer_body": body,
            },
        )
