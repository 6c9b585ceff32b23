"""Prometheus metrics of a service process (one registry per process)."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

HTTP_REQUESTS = Counter(
    "vfu_http_requests_total", "HTTP requests handled", ["method", "route", "status"]
)
HTTP_DURATION = Histogram(
    "vfu_http_request_duration_seconds", "HTTP request duration", ["method", "route"]
)
EVENTS_PUBLISHED = Counter("vfu_events_published_total", "Outbox events published to NATS")
OUTBOX_PUBLISH_FAILURES = Counter("vfu_outbox_publish_failures_total", "Failed relay rounds")
EVENTS_CONSUMED = Counter(
    "vfu_events_consumed_total", "Events handled by consumers", ["consumer", "outcome"]
)
