"""Whose supervisors a caller's report covers.

Coordinators and admins read any provider's report (the reports hold no personal
fields); a provider reads its own organisation's only. A provider without an
organisation employs nobody, so its report is empty rather than refused.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from vfu_common.principal import Principal

from supervisors.reports import errors

_ANY_PROVIDER_ROLES = ("admin", "coordinator", "system")


@dataclass(frozen=True)
class ReportScope:
    """The providers a report covers: one (``provider_id``), every one, or none."""

    provider_id: uuid.UUID | None
    everyone: bool = False

    @property
    def empty(self) -> bool:
        """True when the report covers no provider at all."""
        return self.provider_id is None and not self.everyone


def report_scope(principal: Principal, provider_id: uuid.UUID | None) -> ReportScope:
    """The scope of the report ``principal`` asked for (``provider_id`` None: unfiltered).

    Raises 403 ``not_own_organisation`` when a provider names another organisation.
    """
    if principal.has_role(*_ANY_PROVIDER_ROLES):
        return ReportScope(provider_id, everyone=provider_id is None)
    own = principal.organisation_id
    if provider_id is not None and provider_id != own:
        raise errors.not_own_organisation(provider_id)
    return ReportScope(own)
