"""Which offers a caller may see, as one SQL condition for lists and single reads alike.

* The owning provider (role provider, its organisation) and admins see every offer,
  drafts included; nobody else sees a draft.
* Coordinators see every offer past draft.
* An offer with visibility ``all`` is visible to every role once published.
* An offer with visibility ``partners`` is visible to universities, and to portals acting
  for an organisation, that have a live agreement with the provider in this service's
  agreement projection (decided from the service's own database).

Closed and withdrawn offers keep the visibility they had when published: universities
with bookings on them still need to read them.
"""

from __future__ import annotations

import uuid
from typing import Any, Final

from sqlalchemy import ColumnElement, and_, false, or_, select, true
from vfu_common.events.contracts import PROVIDER_ROLES
from vfu_common.principal import Principal
from vfu_domain.coverage import COVERING_STATUSES

from placements.offers.models import capacity_offers
from placements.projections.agreements import agreement_parties, agreements

_PARTNER_ROLES: Final = ("university", "portal")


def partner_providers(organisation_id: uuid.UUID) -> Any:
    """A subquery of the provider organisations with a live agreement naming
    ``organisation_id`` as its university."""
    as_university = select(agreement_parties.c.agreement_id).where(
        agreement_parties.c.organisation_id == organisation_id,
        agreement_parties.c.role == "university",
    )
    return (
        select(agreement_parties.c.organisation_id)
        .join(agreements, agreements.c.agreement_id == agreement_parties.c.agreement_id)
        .where(
            agreement_parties.c.agreement_id.in_(as_university),
            agreement_parties.c.role.in_(sorted(PROVIDER_ROLES)),
            # Partners while an agreement covers placements (notice given or not).
            agreements.c.status.in_(sorted(COVERING_STATUSES)),
        )
    )


def visible_to(principal: Principal) -> ColumnElement[bool]:
    """The condition on ``capacity_offers`` rows that ``principal`` may read."""
    if principal.has_role("admin"):
        return true()
    offers = capacity_offers.c
    organisation_id = principal.organisation_id
    past_draft = offers.status != "draft"
    allowed: list[ColumnElement[bool]] = []
    if principal.has_role("provider") and organisation_id is not None:
        allowed.append(offers.provider_id == organisation_id)
    if principal.has_role("coordinator"):
        allowed.append(past_draft)
    allowed.append(and_(past_draft, offers.visibility == "all"))
    if principal.has_role(*_PARTNER_ROLES) and organisation_id is not None:
        allowed.append(
            and_(
                past_draft,
                offers.visibility == "partners",
                offers.provider_id.in_(partner_providers(organisation_id)),
            )
        )
    return or_(false(), *allowed)
