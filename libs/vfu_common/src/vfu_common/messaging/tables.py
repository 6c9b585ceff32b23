"""Tables every service database has for messaging.

Each service's first migration holds its own DDL for these tables; the ``Table`` objects
here are what runtime code queries.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Uuid,
)

from vfu_common.db import UtcDateTime, new_metadata

metadata = new_metadata()

# BIGINT on PostgreSQL, but INTEGER on SQLite, where only INTEGER PRIMARY KEY autoincrements.
_Sequence = BigInteger().with_variant(Integer(), "sqlite")


def _outbox_columns() -> list[Any]:
    return [
        Column("seq", _Sequence, primary_key=True, autoincrement=True),
        Column("event_id", Uuid, nullable=False, unique=True),
        Column("subject", String(255), nullable=False),
        Column("payload", LargeBinary, nullable=False),
        Column("created_at", UtcDateTime, nullable=False),
        Column("published_at", UtcDateTime, nullable=True),
        Column("attempts", Integer, nullable=False, server_default="0"),
    ]


def _inbox_columns() -> list[Any]:
    return [
        Column("consumer", String(100), primary_key=True),
        Column("event_id", Uuid, primary_key=True),
        Column("subject", String(255), nullable=False),
        Column("received_at", UtcDateTime, nullable=False),
    ]


def _lease_columns() -> list[Any]:
    return [
        Column("name", String(100), primary_key=True),
        Column("holder", String(100), nullable=False),
        Column("expires_at", UtcDateTime, nullable=False),
    ]


outbox = Table("outbox", metadata, *_outbox_columns())
inbox = Table("inbox", metadata, *_inbox_columns())
leases = Table("leases", metadata, *_lease_columns())

_UNPUBLISHED_INDEX = "ix_outbox_unpublished"
Index(
    _UNPUBLISHED_INDEX,
    outbox.c.seq,
    sqlite_where=outbox.c.published_at.is_(None),
    postgresql_where=outbox.c.published_at.is_(None),
)
