"""The organisation aggregate: a legal entity that can be a party to agreements."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, Integer, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column
from vfu_common.db import UtcDateTime

from agreements.models import Base

KINDS = ("region", "municipality", "university", "private_provider", "coordinating_body")


class Organisation(Base):
    """A registered organisation; its organisationsnummer is unique."""

    __tablename__ = "organisations"
    __table_args__ = (
        CheckConstraint(f"kind IN ({', '.join(repr(k) for k in KINDS)})", name="kind_known"),
        CheckConstraint("length(organisation_number) = 10", name="organisation_number_length"),
        CheckConstraint("version >= 1", name="version_positive"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    organisation_number: Mapped[str] = mapped_column(String(10), unique=True)
    kind: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(200))
    municipality_code: Mapped[str | None] = mapped_column(String(4))
    version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
