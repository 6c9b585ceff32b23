"""What the supervisors service consumes, by source stream."""

from __future__ import annotations

from vfu_common.events.streams import service_stream
from vfu_common.messaging.consumer import Subscription
from vfu_common.projections import organisations

from supervisors.projections.handlers import FROM_AGREEMENTS, FROM_PLACEMENTS

SUBSCRIPTIONS = [
    Subscription(
        durable="supervisors-from-agreements",
        stream=service_stream("agreements"),
        handlers={**organisations.HANDLERS, **FROM_AGREEMENTS},
    ),
    Subscription(
        durable="supervisors-from-placements",
        stream=service_stream("placements"),
        handlers=dict(FROM_PLACEMENTS),
    ),
]
