"""Closed vocabularies of the placements domain, shared by its features.

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
# A supervisor's assignment to students of a booking (``supervision.transitions``).
AssignmentStatus = Literal["active", "released"]
# An allocation run of a planning round (``allocation.transitions``).
RunStatus = Literal["running", "preview", "failed", "published"]

CARE_SETTINGS: Final = get_args(CareSetting)
LEVELS: Final = get_args(Level)
SUPERVISION_MODELS: Final = get_args(SupervisionModel)
VISIBILITIES: Final = get_args(Visibility)
OFFER_STATUSES: Final = get_args(OfferStatus)
BOOKING_STATUSES: Final = get_args(BookingStatus)
ASSIGNMENT_STATUSES: Final = get_args(AssignmentStatus)
RUN_STATUSES: Final = get_args(RunStatus)


__all__ = [
    "ASSIGNMENT_STATUSES",
    "BOOKING_STATUSES",
    "CARE_SETTINGS",
    "LEVELS",
    "OFFER_STATUSES",
    "RUN_STATUSES",
    "SUPERVISION_MODELS",
    "VISIBILITIES",
    "AssignmentStatus",
    "BookingStatus",
    "CareSetting",
    "Level",
    "OfferStatus",
    "RunStatus",
    "SupervisionModel",
    "Visibility",
    "one_of",
]
