"""The offer state machine: its statuses, its legal moves, and the only code that changes
an offer's status.

``draft → published → closed``, and ``draft | published | closed → withdrawn`` (a
withdrawal cancels the open bookings with it: ``offers.withdrawal``). Each move is a
conditional UPDATE on the status the offer was read with, after the caller's row lock,
then its event, in the caller's transaction: a lost race changes and emits nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy.ext.asyncio import AsyncSession
from vfu_common.events.contracts import (
    OFFER_CLOSED,
    OFFER_PUBLISHED,
    OFFER_WITHDRAWN,
    EventContract,
)
from vfu_common.utc import utcnow

from placements.offers import errors, repository
from placements.offers.events import emit_offer_event
from placements.offers.models import Offer
from placements.vocabularies import OfferStatus

# A draft may change every term, a published offer some (``schemas.PUBLISHED_EDITABLE``);
# closed and withdrawn offers are history.
EDITABLE_STATUSES: Final[tuple[OfferStatus, ...]] = ("draft", "published")
# A published offer's changes are announced (``offer.updated``), a draft's are private.
ANNOUNCED_STATUSES: Final[tuple[OfferStatus, ...]] = ("published",)


@dataclass(frozen=True)
class Transition:
    """One legal move: from any of ``sources`` to ``target``, announced by ``event``."""

    action: str
    sources: tuple[OfferStatus, ...]
    target: OfferStatus
    event: EventContract


PUBLISH: Final = Transition("publish", ("draft",), "published", OFFER_PUBLISHED)
CLOSE: Final = Transition("close", ("published",), "closed", OFFER_CLOSED)
WITHDRAW: Final = Transition(
    "withdraw", ("draft", "published", "closed"), "withdrawn", OFFER_WITHDRAWN
)
TRANSITIONS: Final = (PUBLISH, CLOSE, WITHDRAW)


def opened(values: dict[str, Any], *, publish: bool) -> dict[str, Any]:
    """A new offer's row: a draft, or published at its creation time."""
    if publish:
        return {**values, "status": "published", "published_at": values["created_at"]}
    return {**values, "status": "draft", "published_at": None}


def require_legal(offer: Offer, transition: Transition) -> None:
    """Refuse (409 ``invalid_offer_transition``) a move from the offer's status."""
    if offer.status not in transition.sources:
        raise errors.invalid_offer_transition(transition.action, offer.status)


async def apply(
    session: AsyncSession,
    offer: Offer,
    transition: Transition,
    *,
    values: Mapping[str, Any] | None = None,
    **event_fields: Any,
) -> Offer:
    """Move ``offer`` (read under its row lock) by ``transition``; the new row.

    ``values`` are further columns the move sets; ``event_fields`` go into the event
    (e.g. the bookings a withdrawal cancelled).

    Raises:
        ProblemError: 409 ``invalid_offer_transition``.
    """
    require_legal(offer, transition)
    now = utcnow()
    changes: dict[str, Any] = {**(values or {}), "status": transition.target, "updated_at": now}
    if transition is PUBLISH:
        changes["published_at"] = now
    if not await repository.change(session, offer.id, changes, expected_status=(offer.status,)):
        # Unreachable under the row lock; kept so that a race can never emit.
        raise errors.invalid_offer_transition(transition.action, offer.status)
    (row,) = await repository.get_many(session, [offer.id])
    await emit_offer_event(session, transition.event, row, **event_fields)
    return row
