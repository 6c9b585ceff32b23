"""Who may see and act on a booking (decided here, in the owning service, from the
principal and the row).

A booking is visible to the university that made it, the provider of its offer, admins
and coordinators; to anyone else it does not exist (404). Portals read the search only
(403 on every booking endpoint).
"""

from __future__ import annotations

import uuid

from sqlalchemy import ColumnElement
from vfu_common.principal import Principal

from placements.bookings import errors, repository
from placements.bookings.models import Booking

# Roles that see every booking.
OVERSEER_ROLES = ("admin", "coordinator")


def require_not_portal(principal: Principal) -> None:
    """Refuse callers whose only business here is reading the portal search."""
    if not principal.has_role("university", "provider", *OVERSEER_ROLES):
        raise errors.portal_forbidden()


def is_booking_university(principal: Principal, booking: Booking) -> bool:
    """The caller is the university that made the booking."""
    return principal.has_role("university") and principal.organisation_id == booking.university_id


def is_booking_provider(principal: Principal, booking: Booking) -> bool:
    """The caller is the provider of the booked offer."""
    return principal.has_role("provider") and principal.organisation_id == booking.provider_id


def require_visible(
    principal: Principal, booking: Booking | None, booking_id: uuid.UUID
) -> Booking:
    """The booking if the caller may see it; else 404 (no existence leak) or 403 (portal)."""
    require_not_portal(principal)
    if booking is None or not (
        principal.has_role(*OVERSEER_ROLES)
        or is_booking_university(principal, booking)
        or is_booking_provider(principal, booking)
    ):
        raise errors.booking_not_found(booking_id)
    return booking


def require_provider(principal: Principal, booking: Booking) -> None:
    """Answering, starting and completing are the provider's (or an admin's)."""
    if not (principal.has_role("admin") or is_booking_provider(principal, booking)):
        raise errors.not_provider(booking.id)


def require_party(principal: Principal, booking: Booking) -> None:
    """Cancelling is for the booking's university, its provider (or an admin)."""
    if not (
        principal.has_role("admin")
        or is_booking_university(principal, booking)
        or is_booking_provider(principal, booking)
    ):
        raise errors.not_a_party(booking.id)


def require_booking_university(principal: Principal, booking: Booking) -> None:
    """Students are the booking university's to name (or an admin's)."""
    if not (principal.has_role("admin") or is_booking_university(principal, booking)):
        raise errors.not_booking_university(booking.id)


def list_filter(principal: Principal) -> ColumnElement[bool] | None:
    """The bookings a caller's list shows (None: every booking)."""
    require_not_portal(principal)
    if principal.has_role(*OVERSEER_ROLES):
        return None
    organisation_id = principal.organisation_id
    return repository.visible_to(
        university_id=organisation_id if principal.has_role("university") else None,
        provider_id=organisation_id if principal.has_role("provider") else None,
    )
