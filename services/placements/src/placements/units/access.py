"""Who may manage a care unit and the offers on it: the owning provider or an admin."""

from __future__ import annotations

import uuid

from vfu_common.principal import Principal

from placements.units import errors
from placements.units.models import Unit


def may_manage(principal: Principal, provider_id: uuid.UUID) -> bool:
    """True for an admin and for the owning provider organisation acting as provider."""
    if principal.has_role("admin"):
        return True
    return principal.has_role("provider") and principal.organisation_id == provider_id


def require_manager(principal: Principal, unit: Unit) -> None:
    """Refuse (403 ``not_owner``) anyone but the unit's provider or an admin.

    Units are public, so refusing with 403 reveals nothing a caller could not read.
    """
    if not may_manage(principal, unit.provider_id):
        raise errors.not_owner(f"care unit {unit.id}")
