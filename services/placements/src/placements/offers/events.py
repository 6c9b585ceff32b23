"""Offer events: one payload builder, written to the outbox in the change's transaction."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final, cast

from sqlalchemy.ext.asyncio import AsyncSession
from vfu_common.events.contracts import EventContract, OfferV1
from vfu_common.messaging.outbox import emit

SOURCE: Final = "/vfu/placements"
_PAYLOAD_FIELDS: Final = frozenset(OfferV1.model_fields) - {"offer_id", "free_places"}


def offer_payload(
    row: Mapping[Any, Any], payload_type: type[OfferV1] = OfferV1, **extra: Any
) -> OfferV1:
    """The full state of an offer row as ``payload_type`` (OfferV1 or one of its events).

    Args:
        row: A ``capacity_offers`` row.
        payload_type: The event's payload model.
        **extra: Event-specific fields (e.g. ``cancelled_booking_ids``).
    """
    fields = {name: row[name] for name in _PAYLOAD_FIELDS}
    free = row["places"] - row["held_places"] - row["confirmed_places"]
    return payload_type(offer_id=row["id"], free_places=free, **fields, **extra)


async def emit_offer_event(
    session: AsyncSession, contract: EventContract, row: Mapping[Any, Any], **extra: Any
) -> None:
    """Add ``contract``'s event for the offer to the outbox; aggregate version = row version."""
    payload_type = cast(type[OfferV1], contract.payload)  # every offer contract is an OfferV1
    await emit(
        session,
        contract,
        offer_payload(row, payload_type, **extra),
        source=SOURCE,
        aggregate_id=row["id"],
        aggregate_version=row["version"],
    )
