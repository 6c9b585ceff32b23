"""The event handlers of the supervisors service's read models, by source stream.

Each projection module adds its ``HANDLERS`` here; ``supervisors.subscriptions`` binds
them to the durable consumers.
"""

from __future__ import annotations

from vfu_common.messaging.consumer import Handler, chain_handlers

from supervisors.projections import agreements, assignments, offers, units

# Events from the AGREEMENTS stream (agreement requirement levels).
FROM_AGREEMENTS: dict[str, Handler] = dict(agreements.HANDLERS)
# Events from the PLACEMENTS stream (units, offers, supervisor assignments).
FROM_PLACEMENTS: dict[str, Handler] = chain_handlers(
    assignments.HANDLERS, units.HANDLERS, offers.HANDLERS
)
