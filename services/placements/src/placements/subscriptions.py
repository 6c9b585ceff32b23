"""What the placements service consumes, by source stream."""

from __future__ import annotations

from vfu_common.events.streams import service_stream
from vfu_common.messaging.consumer import Subscription, chain_handlers
from vfu_domain import organisation_projection

from placements.bookings import agreement_watch
from placements.projections import agreements
from placements.quotas import projection as quotas
from placements.supervision import projection as supervisors

# The agreement read model first, then the reactions to it: the quotas' recount and the
# bookings feature's watch.
FROM_AGREEMENTS = chain_handlers(
    organisation_projection.HANDLERS,
    agreements.HANDLERS,
    quotas.HANDLERS,
    agreement_watch.HANDLERS,
)

SUBSCRIPTIONS = [
    Subscription(
        durable="placements-from-agreements",
        stream=service_stream("agreements"),
        handlers=FROM_AGREEMENTS,
    ),
    Subscription(
        durable="placements-from-supervisors",
        stream=service_stream("supervisors"),
        handlers=supervisors.HANDLERS,
    ),
]
