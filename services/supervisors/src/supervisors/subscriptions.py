"""What the supervisors service consumes, by source stream."""

from __future__ import annotations

from vfu_common.events.streams import service_stream
from vfu_common.messaging.consumer import Subscription, chain_handlers
from vfu_domain import organisation_projection

from supervisors.projections.handlers import FROM_AGREEMENTS, FROM_PLACEMENTS

SUBSCRIPTIONS = [
    Subscription(
        durable="supervisors-from-agreements",
        stream=service_stream("agreements"),
        handlers=chain_handlers(organisation_projection.HANDLERS, FROM_AGREEMENTS),
    ),
    Subscription(
        durable="supervisors-from-placements",
        stream=service_stream("placements"),
        handlers=dict(FROM_PLACEMENTS),
    ),
]
