"""CloudEvents 1.0 envelope (structured JSON mode) with the platform's extensions."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from vfu_common.utc import utcnow
from vfu_common.uuid7 import new_id


class Envelope(BaseModel):
    """One event as it travels over NATS: CloudEvents attributes plus extensions.

    ``type`` is also the NATS subject. ``aggregateversion`` lets projections ignore stale
    or duplicated events.
    """

    # Consumers must tolerate producers that add attributes later.
    model_config = ConfigDict(extra="ignore")

    specversion: str = "1.0"
    id: uuid.UUID = Field(default_factory=new_id)
    type: str
    source: str
    subject: str | None = None
    time: datetime = Field(default_factory=utcnow)
    datacontenttype: str = "application/json"
    data: dict[str, Any]
    aggregateid: str
    aggregatetype: str
    aggregateversion: int = Field(ge=1)
    correlationid: str | None = None
    causationid: str | None = None
    traceparent: str | None = None

    def to_bytes(self) -> bytes:
        """Serialise for the wire."""
        return self.model_dump_json(exclude_none=True).encode()

    @classmethod
    def from_bytes(cls, raw: bytes) -> Envelope:
        """Parse from the wire; raises pydantic.ValidationError on a malformed event."""
        return cls.model_validate_json(raw)
