"""Rules of reading agreements and of who may see them; the agreement gate's coverage.

Creating and amending are in ``contracting.drafting``, every change of status in
``contracting.lifecycle`` (through ``contracting.transitions``).
"""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession
from vfu_common.pagination import PageParams, encode_cursor, invalid_cursor
from vfu_common.principal import Principal
from vfu_domain.coverage import CoverageDecision, CoverageQuery, decide_coverage

from agreements.contracting import access, errors, repository
from agreements.contracting.models import Agreement
from agreements.contracting.terms import to_terms

# Roles that may read agreements; a portal reads published capacity, never agreements.
READER_ROLES = ("admin", "coordinator", "university", "provider")


# --- access --------------------------------------------------------------------------------


def require_reader(principal: Principal) -> None:
    if not principal.has_role(*READER_ROLES):
        raise errors.forbidden("Agreements are visible to their parties, coordinators and admins.")


def _party_ids(agreement: Agreement) -> set[uuid.UUID]:
    return {p.organisation_id for p in agreement.parties}


def require_party(principal: Principal, agreement: Agreement) -> uuid.UUID:
    """The caller's organisation, which must be a party (signing and notice are per party)."""
    require_reader(principal)
    organisation_id = principal.organisation_id
    if organisation_id is None or organisation_id not in _party_ids(agreement):
        raise errors.not_a_party(agreement.id)
    return organisation_id


async def require_visible(
    session: AsyncSession, principal: Principal, agreement: Agreement
) -> None:
    """A party, an admin, or a coordinator of a party's healthcare region (else 403)."""
    require_reader(principal)
    parties = _party_ids(agreement)
    if principal.organisation_id in parties or await access.oversees(session, principal, parties):
        return
    raise errors.not_a_party(agreement.id)


async def load(
    session: AsyncSession, agreement_id: uuid.UUID, *, for_update: bool = False
) -> Agreement:
    """The agreement with its parts, or 404 ``agreement_not_found``."""
    agreement = await repository.get_full(session, agreement_id, for_update=for_update)
    if agreement is None:
        raise errors.agreement_not_found(agreement_id)
    return agreement


async def reload(session: AsyncSession, agreement_id: uuid.UUID) -> Agreement:
    """The agreement as stored now (after a change in this transaction)."""
    return await load(session, agreement_id)


async def load_for_manage(
    session: AsyncSession, agreement_id: uuid.UUID, principal: Principal
) -> Agreement:
    """The agreement, locked, for someone who may see it (else 403 or 404)."""
    agreement = await load(session, agreement_id, for_update=True)
    await require_visible(session, principal, agreement)
    return agreement


# --- reading -------------------------------------------------------------------------------


async def get_agreement(
    session: AsyncSession, agreement_id: uuid.UUID, *, principal: Principal
) -> Agreement:
    """One agreement version the caller may see (403 ``not_a_party`` otherwise)."""
    agreement = await load(session, agreement_id)
    await require_visible(session, principal, agreement)
    return agreement


def _after(page: PageParams) -> uuid.UUID | None:
    """The last id of the previous page; a tampered cursor is a 400, not a 500."""
    if page.cursor is None:
        return None
    try:
        return uuid.UUID(str(page.cursor["after"]))
    except (KeyError, ValueError) as exc:
        raise invalid_cursor() from exc


async def list_agreements(
    session: AsyncSession, *, principal: Principal, page: PageParams
) -> tuple[list[Agreement], str | None]:
    """A page of the agreements the caller may see: its own, its regions' for a coordinator,
    every agreement for an admin."""
    require_reader(principal)
    after = _after(page)
    if principal.has_role("admin"):
        visible = repository.Visibility(everything=True)
    else:
        visible = repository.Visibility(
            organisation_id=principal.organisation_id,
            regions=await access.coordinator_regions(session, principal),
        )
    rows = await repository.page(session, visible=visible, after=after, limit=page.limit + 1)
    items = rows[: page.limit]
    more = len(rows) > page.limit
    return items, encode_cursor({"after": str(items[-1].id)}) if more else None


async def history(
    session: AsyncSession, agreement_id: uuid.UUID, *, principal: Principal
) -> list[Agreement]:
    """Every version of the agreement's series, oldest first."""
    agreement = await get_agreement(session, agreement_id, principal=principal)
    return await repository.series(session, agreement.series_id)


# --- coverage ------------------------------------------------------------------------------


async def coverage(
    session: AsyncSession, *, query: CoverageQuery, principal: Principal
) -> CoverageDecision:
    """Which of this service's agreements covers the placement (the shared rule decides).

    Raises:
        ProblemError: 403 unless admin, coordinator, or the university or the provider.
    """
    require_reader(principal)
    asked_about = (query.university_id, query.provider_id)
    if principal.organisation_id not in asked_about and not await access.oversees(
        session, principal, asked_about
    ):
        raise errors.not_a_party()
    if query.end < query.start:
        raise errors.invalid_terms("invalid_period", "end is before start.")
    agreements = await repository.agreements_between(
        session, query.university_id, query.provider_id
    )
    return decide_coverage([to_terms(a) for a in agreements], query)
