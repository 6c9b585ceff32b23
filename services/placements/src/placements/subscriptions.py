"""What the placements service consumes, by source stream."""

from __future__ import annotations

from vfu_common.events.streams import service_stream
from vfu_common.messaging.consumer import Subscription
from vfu_domain import organisation_projection

from placements.projections import agreements
from placements.supervision import projection as supervisors

SUBSCRIPTIONS = [
    Subscription(
        durable="placements-from-agreements",
        stream=service_stream("agreements"),
        handlers={**organisation_projection.HANDLERS, **agreements.HANDLERS},
    ),
    Subscription(
        durable="placements-from-supervisors",
        stream=service_stream("supervisors"),
        handlers=supervisors.HANDLERS,
    ),
]
