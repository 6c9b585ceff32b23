"""Closed vocabularies of the placements domain, shared by units, offers and search.

Each tuple is also a CHECK constraint in the database, so a value outside it cannot be
stored by any code path.
"""

from __future__ import annotations

from typing import Final, Literal, get_args

from vfu_common.db import one_of
from vfu_common.events.contracts import BookingStatus, OfferStatus, SupervisionModel
from vfu_common.events.contracts import OfferVisibility as Visibility

CareSetting = Literal[
    "slutenvard",
    "akutsjukvard",
    "primarvard",
    "kommunal_halso_och_sjukvard",
    "aldreomsorg",
    "hemsjukvard",
    "psykiatri",
    "habilitering_och_rehabilitering",
    "tandvard",
    "other",
]
# Higher-education cycles (grundnivå, avancerad nivå) of the course the placement serves.
Level = Literal["grundniva", "avancerad_niva"]

CARE_SETTINGS: Final = get_args(CareSetting)
LEVELS: Final = get_args(Level)
SUPERVISION_MODELS: Final = get_args(SupervisionModel)
VISIBILITIES: Final = get_args(Visibility)
OFFER_STATUSES: Final = get_args(OfferStatus)
BOOKING_STATUSES: Final = get_args(BookingStatus)

# Booking statuses whose places count as taken on the offer.
HOLDING_STATUSES: Final = ("requested",)
CONFIRMED_STATUSES: Final = ("confirmed", "in_progress", "completed")


__all__ = [
    "BOOKING_STATUSES",
    "CARE_SETTINGS",
    "CONFIRMED_STATUSES",
    "HOLDING_STATUSES",
    "LEVELS",
    "OFFER_STATUSES",
    "SUPERVISION_MODELS",
    "VISIBILITIES",
    "BookingStatus",
    "CareSetting",
    "Level",
    "OfferStatus",
    "SupervisionModel",
    "Visibility",
    "one_of",
]
