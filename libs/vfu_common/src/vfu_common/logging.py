"""JSON logging with request, correlation and trace ids bound per request or per event."""

from __future__ import annotations

import logging
import sys
from contextvars import ContextVar

import structlog

_request_id: ContextVar[str | None] = ContextVar("request_id", default=None)
_correlation_id: ContextVar[str | None] = ContextVar("correlation_id", default=None)
_traceparent: ContextVar[str | None] = ContextVar("traceparent", default=None)


def bind_context(
    *, request_id: str | None, correlation_id: str | None, traceparent: str | None
) -> None:
    """Bind the ids of the request or event being handled to this task's context."""
    _request_id.set(request_id)
    _correlation_id.set(correlation_id or request_id)
    _traceparent.set(traceparent)
    structlog.contextvars.clear_contextvars()
    structlog.contextvars.bind_contextvars(
        request_id=request_id,
        correlation_id=correlation_id or request_id,
        trace_id=trace_id_of(traceparent),
    )


def trace_id_of(traceparent: str | None) -> str | None:
    """The trace id of a W3C ``traceparent`` header (version-traceid-spanid-flags)."""
    if not traceparent:
        return None
    parts = traceparent.split("-")
    return parts[1] if len(parts) == 4 and len(parts[1]) == 32 else None


def current_request_id() -> str | None:
    """The request id bound to this context."""
    return _request_id.get()


def current_correlation_id() -> str | None:
    """The correlation id bound to this context (the request id when none was given)."""
    return _correlation_id.get()


def current_traceparent() -> str | None:
    """The traceparent bound to this context."""
    return _traceparent.get()


def configure_logging(level: str = "INFO", *, service: str) -> None:
    """Send stdlib and structlog records to stdout as JSON lines."""
    shared: list[structlog.types.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.dict_tracebacks,
    ]
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[
            lambda _l, _m, event: {**event, "service": service},
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.JSONRenderer(),
        ],
    )
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("uvicorn.access",):
        logging.getLogger(noisy).disabled = True
