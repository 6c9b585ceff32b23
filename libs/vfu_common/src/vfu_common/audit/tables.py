"""The ``audit_log`` table, and the triggers that make it append-only in the database.

Each service's migrations hold their own DDL for this table and its triggers; the
``Table`` here is what runtime code queries, and ``append_only_ddl`` installs the same
triggers on a database built from the metadata (tests). Append-only is enforced by the
database, not only by the code that never updates: a bug, a hand-typed ``DELETE`` or a
compromised service cannot quietly rewrite what happened.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import CheckConstraint, Column, Index, Integer, String, Table, Uuid
from sqlalchemy.sql.elements import conv

from vfu_common.db import UtcDateTime, new_metadata

metadata = new_metadata()

TABLE = "audit_log"
OUTCOMES = ("succeeded", "refused", "failed")
APPEND_ONLY_MESSAGE = "audit_log is append-only"
# Lengths the middleware truncates to, so an over-long value never fails the write.
SUBJECT_LENGTH = 255
ROUTE_LENGTH = 255
OBJECT_ID_LENGTH = 100
REQUEST_ID_LENGTH = 128

_PG_FUNCTION = "audit_log_append_only"
_TRIGGERS = ("audit_log_no_update", "audit_log_no_delete")


def _columns() -> list[Any]:
    return [
        Column("id", Uuid, primary_key=True),
        Column("occurred_at", UtcDateTime, nullable=False),
        Column("subject", String(SUBJECT_LENGTH), nullable=False),
        Column("organisation_id", Uuid, nullable=True),
        Column("roles", String(255), nullable=False),
        Column("method", String(10), nullable=False),
        Column("route", String(ROUTE_LENGTH), nullable=False),
        Column("object_id", String(OBJECT_ID_LENGTH), nullable=True),
        Column("status", Integer, nullable=False),
        Column("outcome", String(16), nullable=False),
        Column("request_id", String(REQUEST_ID_LENGTH), nullable=True),
        CheckConstraint(
            f"outcome IN ({', '.join(repr(o) for o in OUTCOMES)})",
            # conv(): the final name, whatever MetaData (ours or Alembic's) builds it.
            name=conv("ck_audit_log_outcome_known"),
        ),
    ]


# Newest-first keyset pages, overall and per organisation; look-ups by object.
_INDEXES: dict[str, tuple[str, ...]] = {
    "ix_audit_log_occurred_at": ("occurred_at", "id"),
    "ix_audit_log_organisation": ("organisation_id", "occurred_at", "id"),
    "ix_audit_log_object_id": ("object_id",),
}

audit_log = Table(TABLE, metadata, *_columns())
for _name, _cols in _INDEXES.items():
    Index(_name, *(audit_log.c[c] for c in _cols))


def append_only_ddl(dialect: str) -> list[str]:
    """Statements installing the triggers that refuse UPDATE and DELETE on audit_log."""
    if dialect == "sqlite":
        return [
            f"CREATE TRIGGER {trigger} BEFORE {verb} ON {TABLE} "
            f"BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY_MESSAGE}'); END"
            for trigger, verb in zip(_TRIGGERS, ("UPDATE", "DELETE"), strict=True)
        ]
    return [
        f"CREATE FUNCTION {_PG_FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$ "
        f"BEGIN RAISE EXCEPTION '{APPEND_ONLY_MESSAGE}'; END $$",
        *(
            f"CREATE TRIGGER {trigger} BEFORE {verb} ON {TABLE} "
            f"FOR EACH ROW EXECUTE FUNCTION {_PG_FUNCTION}()"
            for trigger, verb in zip(_TRIGGERS, ("UPDATE", "DELETE"), strict=True)
        ),
        # Row triggers do not fire on TRUNCATE; a statement trigger closes that door too.
        f"CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON {TABLE} "
        f"FOR EACH STATEMENT EXECUTE FUNCTION {_PG_FUNCTION}()",
    ]
