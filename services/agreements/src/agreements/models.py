"""Declarative base of the agreements service's own tables."""

from __future__ import annotations

from sqlalchemy.orm import DeclarativeBase
from vfu_common.db import new_metadata


class Base(DeclarativeBase):
    """Base class of every ORM model in this service."""

    metadata = new_metadata()
