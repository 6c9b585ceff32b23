"""Problems raised by the bookings feature (stable codes)."""

from __future__ import annotations

import uuid

from vfu_common.errors import ProblemError


def offer_not_found(offer_id: uuid.UUID) -> ProblemError:
    """No such offer, or not one the caller may see (no existence leak)."""
    return ProblemError(404, "offer_not_found", "Offer not found", f"No offer {offer_id}.")


def offer_not_bookable(offer_id: uuid.UUID, status: str) -> ProblemError:
    """Only published offers take bookings."""
    return ProblemError(
        409,
        "offer_not_bookable",
        "Offer not bookable",
        f"Offer {offer_id} is {status}; only published offers take bookings.",
    )


class NoActiveAgreementError(ProblemError):
    """The agreement gate refused: ``reason`` is the coverage rule's stable code.

    The reason also leads the detail (``reason: explanation``), for clients that only
    read the standard members.
    """

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(409, "no_active_agreement", "No active agreement", f"{reason}: {detail}")
        self.reason = reason


def capacity_exceeded(requested: int, free: int) -> ProblemError:
    """The offer has fewer free places than asked for."""
    return ProblemError(
        409,
        "capacity_exceeded",
        "Capacity exceeded",
        f"Requested {requested} place(s); {free} free.",
    )


def booking_not_found(booking_id: uuid.UUID) -> ProblemError:
    """No such booking, or not one the caller may see."""
    return ProblemError(404, "booking_not_found", "Booking not found", f"No booking {booking_id}.")


def portal_forbidden() -> ProblemError:
    """Student portals read the search, never bookings."""
    return ProblemError(
        403, "forbidden", "Forbidden", "Bookings are not available to student portals."
    )


def forbidden(detail: str) -> ProblemError:
    """The caller's roles do not allow this."""
    return ProblemError(403, "forbidden", "Forbidden", detail)


def not_provider(booking_id: uuid.UUID) -> ProblemError:
    """Only the offer's provider answers, starts and completes a booking."""
    return ProblemError(
        403,
        "not_provider",
        "Not the provider",
        f"Only the provider of booking {booking_id} may do this.",
    )


def not_booking_university(booking_id: uuid.UUID) -> ProblemError:
    """Only the university that booked attaches students."""
    return ProblemError(
        403,
        "not_booking_university",
        "Not the booking university",
        f"Only the university that made booking {booking_id} may do this.",
    )


def not_a_party(booking_id: uuid.UUID) -> ProblemError:
    """Cancelling is for the two parties of the booking (a coordinator only reads)."""
    return ProblemError(
        403,
        "not_a_party",
        "Not a party",
        f"Only the university or the provider of booking {booking_id} may cancel it.",
    )


def invalid_transition(action: str, status: str) -> ProblemError:
    """``action`` is not allowed from the booking's current status."""
    return ProblemError(
        409,
        "invalid_booking_transition",
        "Invalid booking transition",
        f"Cannot {action} a booking that is {status}.",
    )


def too_many_places(confirmed: int, requested: int) -> ProblemError:
    """A provider confirms at most the places asked for."""
    return ProblemError(
        409,
        "too_many_places",
        "Too many places",
        f"Cannot confirm {confirmed} place(s) of a request for {requested}.",
    )


def too_many_students(students: int, places: int) -> ProblemError:
    """More students than the booking has places."""
    return ProblemError(
        409,
        "too_many_students",
        "Too many students",
        f"{students} student(s) for {places} place(s).",
    )
