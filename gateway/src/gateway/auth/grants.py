"""What a credential grants: an organisation (or none) and roles."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from vfu_common.principal import ROLES, Principal

# "system" is the gateway's own identity towards the services; no outside caller gets it.
GRANTABLE_ROLES = ROLES - {"system"}


class GrantError(ValueError):
    """A grant names a role that cannot be given."""


def check_roles(roles: Iterable[str], allowed: frozenset[str] = GRANTABLE_ROLES) -> frozenset[str]:
    """The roles as a set; raise GrantError for none or any not in ``allowed``."""
    found = frozenset(roles)
    if not found:
        raise GrantError("at least one role is needed")
    unknown = found - allowed
    if unknown:
        choices = ", ".join(sorted(allowed))
        raise GrantError(f"roles {sorted(unknown)} cannot be granted; choose from {choices}")
    return found


def roles_text(roles: Iterable[str]) -> str:
    """Roles as stored: sorted, space-separated."""
    return " ".join(sorted(roles))


def parse_roles(text: str) -> frozenset[str]:
    """Stored roles back into a set."""
    return frozenset(text.split())


@dataclass(frozen=True, slots=True)
class Grant:
    """Who a verified credential stands for, before a request id is attached."""

    subject: str
    organisation_id: uuid.UUID | None
    roles: frozenset[str]

    def principal(self, request_id: str) -> Principal:
        """The principal for one request."""
        return Principal(
            subject=self.subject,
            organisation_id=self.organisation_id,
            roles=self.roles,
            request_id=request_id,
        )


class Listed(Protocol):
    """What a stored client or API key shows when listed (never its secret)."""

    @property
    def name(self) -> str: ...
    @property
    def organisation_id(self) -> uuid.UUID | None: ...
    @property
    def roles(self) -> frozenset[str]: ...
    @property
    def created_at(self) -> datetime: ...
    @property
    def revoked_at(self) -> datetime | None: ...


def listing_fields(grant: Listed) -> dict[str, Any]:
    """The fields ``vfu ... list --json`` prints for a client or a key, after its id."""
    return {
        "name": grant.name,
        "organisation_id": str(grant.organisation_id) if grant.organisation_id else None,
        "roles": sorted(grant.roles),
        "created_at": grant.created_at.isoformat(),
        "revoked_at": grant.revoked_at.isoformat() if grant.revoked_at else None,
    }
