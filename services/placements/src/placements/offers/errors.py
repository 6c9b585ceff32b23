"""Problems raised by the capacity-offer feature (stable codes)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from vfu_common.errors import ProblemError


def offer_not_found(offer_id: uuid.UUID) -> ProblemError:
    """No such offer, or one the caller may not see (no existence leak)."""
    return ProblemError(404, "offer_not_found", "Offer not found", f"No offer {offer_id}.")


def invalid_offer_transition(action: str, status: str) -> ProblemError:
    """``action`` is not possible from the offer's current status."""
    return ProblemError(
        409,
        "invalid_offer_transition",
        "Invalid offer transition",
        f"Cannot {action} an offer in status {status}.",
    )


def offer_not_editable(status: str) -> ProblemError:
    """Closed and withdrawn offers are history."""
    return ProblemError(
        409,
        "offer_not_editable",
        "Offer not editable",
        f"An offer in status {status} can no longer be changed.",
    )


def offer_field_not_editable(fields: Iterable[str]) -> ProblemError:
    """A published offer keeps its unit, programme, level, term, dates and model."""
    names = ", ".join(sorted(fields))
    return ProblemError(
        409,
        "offer_field_not_editable",
        "Field not editable once published",
        f"A published offer can change only places, requirements, visibility and "
        f"auto_confirm; not {names}. Withdraw it and publish a new one instead.",
    )


def places_below_booked(places: int, booked: int) -> ProblemError:
    """Places may not drop below what requested and confirmed bookings hold."""
    return ProblemError(
        409,
        "places_below_booked",
        "Places below booked",
        f"{places} places is fewer than the {booked} held or confirmed by bookings.",
    )


def placements_in_progress(offer_id: uuid.UUID) -> ProblemError:
    """Students are on placement under the offer; it cannot be withdrawn now."""
    return ProblemError(
        409,
        "placements_in_progress",
        "Placements in progress",
        f"Offer {offer_id} has placements in progress; end them before withdrawing.",
    )
