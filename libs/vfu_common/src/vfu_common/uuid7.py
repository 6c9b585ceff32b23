"""Identifier generation: UUIDv7 everywhere, generated in the application."""

from __future__ import annotations

import uuid

import uuid6


def new_id() -> uuid.UUID:
    """Return a new UUIDv7: time-ordered, so primary-key inserts stay index-friendly."""
    return uuid.UUID(bytes=uuid6.uuid7().bytes)
