"""Offer events: one payload builder, written to the outbox in the change's transaction."""

from __future__ import annotations

from typing import Any, Final, cast

from sqlalchemy.ext.asyncio import AsyncSession
from vfu_common.events.contracts import EventContract, OfferV1
from vfu_common.messaging.outbox import emit

from placements.offers.models import Offer

SOURCE: Final = "/vfu/placements"
_PAYLOAD_FIELDS: Final = frozenset(OfferV1.model_fields) - {"offer_id", "free_places"}


def offer_payload(row: Offer, payload_type: type[OfferV1] = OfferV1, **extra: Any) -> OfferV1:
    """The full state of an offer row as ``payload_type`` (OfferV1 or one of its events).

    Args:
        row: The offer.
        payload_type: The event's payload model.
        **extra: Event-specific fields (e.g. ``cancelled_booking_ids``).
    """
    fields = {name: getattr(row, name) for name in _PAYLOAD_FIELDS}
    return payload_type(offer_id=row.id, free_places=row.free_places, **fields, **extra)


async def emit_offer_event(
    session: AsyncSession, contract: EventContract, row: Offer, **extra: Any
) -> None:
    """Add ``contract``'s event for the offer to the outbox; aggregate version = row version."""
    payload_type = cast(type[OfferV1], contract.payload)  # every offer contract is an OfferV1
    await emit(
        session,
        contract,
        offer_payload(row, payload_type, **extra),
        source=SOURCE,
        aggregate_id=row.id,
        aggregate_version=row.version,
    )
