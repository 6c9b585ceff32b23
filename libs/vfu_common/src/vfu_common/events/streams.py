"""JetStream stream definitions and idempotent provisioning.

Every service that produces or consumes a stream ensures it at start-up with the same
configuration, so services can start in any order.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from nats.js import JetStreamContext
from nats.js.api import DiscardPolicy, RetentionPolicy, StorageType, StreamConfig
from nats.js.errors import BadRequestError

_log = logging.getLogger(__name__)
WEEK_SECONDS = 7 * 24 * 3600


@dataclass(frozen=True)
class StreamSpec:
    """A stream's name and subjects; retention settings are uniform on purpose."""

    name: str
    subjects: tuple[str, ...]
    max_age_seconds: int = 8 * WEEK_SECONDS
    duplicate_window_seconds: int = 5 * 60

    def config(self) -> StreamConfig:
        """The nats-py configuration for this stream."""
        return StreamConfig(
            name=self.name,
            subjects=list(self.subjects),
            retention=RetentionPolicy.LIMITS,
            storage=StorageType.FILE,
            discard=DiscardPolicy.OLD,
            max_age=float(self.max_age_seconds),
            duplicate_window=float(self.duplicate_window_seconds),
        )


def service_stream(service: str) -> StreamSpec:
    """The stream that captures everything a service publishes."""
    return StreamSpec(name=service.upper(), subjects=(f"vfu.{service}.>",))


DLQ_STREAM = StreamSpec(name="DLQ", subjects=("vfu.dlq.>",))


async def ensure_stream(js: JetStreamContext, spec: StreamSpec) -> None:
    """Create the stream, or bring an existing one to this configuration."""
    try:
        await js.add_stream(spec.config())
    except BadRequestError as exc:
        # 10058: name in use with another configuration: update it in place.
        if exc.err_code != 10058:
            raise
        _log.info("updating stream %s to the declared configuration", spec.name)
        await js.update_stream(spec.config())
