"""The authenticated caller: an organisation acting in one or more roles.

The gateway vouches for it in the internal token (``vfu_common.internal_token``); every
object-level decision in a service is made from it.
"""

from __future__ import annotations

import uuid

from pydantic import BaseModel, ConfigDict

ROLES = frozenset({"provider", "university", "portal", "coordinator", "admin", "system"})


class Principal(BaseModel):
    """The authenticated caller: an organisation acting in one or more roles."""

    model_config = ConfigDict(frozen=True)

    subject: str
    organisation_id: uuid.UUID | None = None
    roles: frozenset[str] = frozenset()
    request_id: str | None = None

    def has_role(self, *roles: str) -> bool:
        """True when the principal holds any of ``roles``."""
        return bool(self.roles.intersection(roles))
