"""Drafting agreements: a new agreement as a draft, and an amendment as a new version
of the series that supersedes the old one from its date once signed.

A draft is private until it is proposed (``contracting.lifecycle``). Every party must be
a registered organisation of the kind its role says, the terms must agree with each
other and with the parties, and a live agreement between the same parties may not
cover the same scope on the same days.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import date
from typing import Any

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession
from vfu_common.errors import ProblemError
from vfu_common.principal import Principal
from vfu_common.utc import utcnow
from vfu_common.uuid7 import new_id

from agreements.contracting import access, errors, repository, transitions
from agreements.contracting.models import (
    Agreement,
    AgreementDocument,
    AgreementParty,
    AgreementQuota,
    AgreementRate,
    AgreementScopeItem,
)
from agreements.contracting.schemas import AgreementAmend, AgreementCreate
from agreements.contracting.service import load_for_manage, reload, require_reader
from agreements.contracting.terms import to_terms


def _check_party_list(data: AgreementCreate) -> list[uuid.UUID]:
    ids = [party.organisation_id for party in data.parties]
    if len(ids) < 2:
        raise errors.too_few_parties(len(ids))
    seen: set[uuid.UUID] = set()
    for organisation_id in ids:
        if organisation_id in seen:
            raise errors.duplicate_party(organisation_id)
        seen.add(organisation_id)
    return ids


def _check_terms(data: AgreementCreate) -> None:
    """Terms that must agree with each other and with the parties."""
    roles = {party.organisation_id: party.role for party in data.parties}
    scope = set(data.programmes) | set(data.professions)
    seen_quotas: set[tuple[uuid.UUID, str, str, str]] = set()
    for quota in data.quotas:
        if roles.get(quota.university_organisation_id) != "university":
            raise errors.invalid_terms(
                "quota_not_for_a_university_party",
                f"Quota for {quota.university_organisation_id}, not a university party.",
            )
        key = (quota.university_organisation_id, quota.programme_code, quota.term, quota.unit)
        if key in seen_quotas:  # two figures for one commitment would make usage ambiguous
            raise errors.invalid_terms(
                "duplicate_quota",
                f"Two quotas for {quota.programme_code} in {quota.term} ({quota.unit}).",
            )
        seen_quotas.add(key)
    for rate in data.rates:
        if rate.programme_code not in scope:
            raise errors.invalid_terms(
                "rate_programme_not_in_scope",
                f"A rate for {rate.programme_code}, which the agreement does not cover.",
            )
        for payer_or_payee in (rate.payer_organisation_id, rate.payee_organisation_id):
            if payer_or_payee not in roles:
                raise errors.invalid_terms(
                    "rate_party_not_a_party", f"Rate payer or payee {payer_or_payee} is no party."
                )


async def _check_organisations(session: AsyncSession, data: AgreementCreate) -> None:
    organisations = {
        o.id: o
        for o in await repository.lock_organisations(
            session, [p.organisation_id for p in data.parties]
        )
    }
    missing = [p.organisation_id for p in data.parties if p.organisation_id not in organisations]
    if missing:
        raise errors.unknown_party_organisation(missing)
    for party in data.parties:
        kind = organisations[party.organisation_id].kind
        if kind != party.role:
            raise errors.party_role_mismatch(party.organisation_id, party.role, kind)


def _dates_overlap(
    start: date, end: date | None, other_start: date, other_end: date | None
) -> bool:
    return start <= (other_end or date.max) and other_start <= (end or date.max)


async def _check_overlap(
    session: AsyncSession, data: AgreementCreate, *, series_id: uuid.UUID | None
) -> None:
    """Refuse a second live agreement between the same parties for the same scope and dates.

    Versions of the same series are exempt: an amendment overlaps its predecessor by design.
    """
    scope = set(data.programmes) | set(data.professions)
    parties = [p.organisation_id for p in data.parties]
    for other in await repository.agreements_with_parties(
        session, parties, transitions.LIVE_STATUSES
    ):
        if other.series_id == series_id:
            continue
        other_scope = {i.code for i in other.scope if i.kind in ("programme", "profession")}
        # An auto-renewing agreement runs on past valid_to until notice or an amendment ends
        # it, so for overlap it is open-ended; otherwise a renewal would create the overlap.
        other_end = other.effective_until or (None if other.auto_renewal_months else other.valid_to)
        end = None if data.auto_renewal_months else data.valid_to
        if scope & other_scope and _dates_overlap(
            data.valid_from, end, other.valid_from, other_end
        ):
            raise errors.overlapping_agreement(other.id)


def _scope_items(data: AgreementCreate) -> list[AgreementScopeItem]:
    lists: dict[str, Iterable[str]] = {
        "programme": data.programmes,
        "profession": data.professions,
        "unit": (str(u) for u in data.covered_unit_ids),
        "municipality": data.covered_municipality_codes,
    }
    return [
        AgreementScopeItem(kind=kind, code=code)
        for kind, codes in lists.items()
        for code in sorted(set(codes))
    ]


def _new_version(
    data: AgreementCreate,
    *,
    created_by: str,
    series_id: uuid.UUID | None = None,
    version_number: int = 1,
    supersedes: uuid.UUID | None = None,
) -> Agreement:
    agreement_id = new_id()
    now = utcnow()
    return Agreement(
        id=agreement_id,
        series_id=series_id or agreement_id,
        version_number=version_number,
        supersedes_agreement_id=supersedes,
        agreement_type=data.agreement_type,
        title=data.title,
        status=transitions.DRAFT,
        valid_from=data.valid_from,
        valid_to=data.valid_to,
        notice_period_months=data.notice_period_months,
        auto_renewal_months=data.auto_renewal_months,
        effective_until=None,
        supervision_requirement_level=data.supervision_requirement_level,
        created_by=created_by,
        version=1,
        created_at=now,
        updated_at=now,
        parties=[
            AgreementParty(organisation_id=p.organisation_id, role=p.role, position=i)
            for i, p in enumerate(data.parties)
        ],
        scope=_scope_items(data),
        quotas=[
            AgreementQuota(id=new_id(), position=i, **q.model_dump())
            for i, q in enumerate(data.quotas)
        ],
        rates=[
            AgreementRate(id=new_id(), position=i, **r.model_dump())
            for i, r in enumerate(data.rates)
        ],
        documents=[
            AgreementDocument(id=new_id(), position=i, **d.model_dump())
            for i, d in enumerate(data.documents)
        ],
    )


async def _store_new_version(
    session: AsyncSession,
    data: AgreementCreate,
    *,
    principal: Principal,
    series_id: uuid.UUID | None = None,
    version_number: int = 1,
    supersedes: uuid.UUID | None = None,
) -> Agreement:
    _check_party_list(data)
    await _check_organisations(session, data)
    _check_terms(data)
    await _check_overlap(session, data, series_id=series_id)
    agreement = _new_version(
        data,
        created_by=principal.subject,
        series_id=series_id,
        version_number=version_number,
        supersedes=supersedes,
    )
    session.add(agreement)
    await session.flush()
    return await reload(session, agreement.id)


async def create_agreement(
    session: AsyncSession, *, data: AgreementCreate, principal: Principal
) -> Agreement:
    """Store a draft. No event: a draft is private until it is proposed.

    Raises:
        ProblemError: 403 unless admin, coordinator or a party; 422 ``too_few_parties``,
            ``duplicate_party``, ``unknown_party_organisation``, ``party_role_mismatch``
            or an invalid-terms code; 409 ``overlapping_agreement``.
    """
    require_reader(principal)
    party_ids = _check_party_list(data)
    if principal.organisation_id not in party_ids and not await access.oversees(
        session, principal, party_ids
    ):
        raise errors.not_a_party()
    return await _store_new_version(session, data, principal=principal)


# --- amendments ----------------------------------------------------------------------------


async def refuse_amendment_in_progress(session: AsyncSession, agreement: Agreement) -> None:
    for version in await repository.series(session, agreement.series_id):
        if version.status in transitions.PRE_ACTIVE_STATUSES:
            raise errors.amendment_conflict(
                "amendment_in_progress",
                f"Version {version.version_number} ({version.id}) is {version.status}.",
            )


def _amended_terms(old: Agreement, data: AgreementAmend) -> AgreementCreate:
    """The old version's terms with the amendment's fields laid over them."""
    terms = to_terms(old)
    base: dict[str, Any] = {
        **terms.model_dump(
            include={
                "agreement_type",
                "title",
                "programmes",
                "professions",
                "covered_unit_ids",
                "covered_municipality_codes",
                "valid_to",
                "notice_period_months",
                "auto_renewal_months",
                "supervision_requirement_level",
                "quotas",
                "rates",
            }
        ),
        "documents": [{"title": d.title, "uri": d.uri, "sha256": d.sha256} for d in old.documents],
        "parties": [{"organisation_id": p.organisation_id, "role": p.role} for p in old.parties],
        "valid_from": data.effective_from,
    }
    base.update(data.model_dump(include=data.model_fields_set - {"effective_from"}))
    try:
        return AgreementCreate.model_validate(base)
    except ValidationError as exc:
        raise ProblemError(
            422,
            "validation_error",
            "Request validation failed",
            "The amended terms are invalid; see errors.",
            errors=[
                {"loc": list(e["loc"]), "msg": e["msg"], "type": e["type"]} for e in exc.errors()
            ],
        ) from exc


async def amend(
    session: AsyncSession, agreement_id: uuid.UUID, *, data: AgreementAmend, principal: Principal
) -> Agreement:
    """Draft a new version of an active agreement, taking effect on ``effective_from``.

    The new version goes through proposal and signatures like any draft; when it becomes
    active the old version ends the day before (``amended`` event).

    Raises:
        ProblemError: 409 ``invalid_transition`` (not active), ``amendment_in_progress``,
            ``not_latest_version`` or ``invalid_effective_date``; the creation refusals.
    """
    old = await load_for_manage(session, agreement_id, principal)
    if old.status != "active":
        raise errors.invalid_transition("amend", old.status)
    await refuse_amendment_in_progress(session, old)
    versions = await repository.series(session, old.series_id)
    latest = max((v for v in versions if v.status != "abandoned"), key=lambda v: v.version_number)
    if latest.id != old.id:
        raise errors.amendment_conflict(
            "not_latest_version", f"Version {latest.version_number} ({latest.id}) supersedes it."
        )
    end = old.effective_until or old.valid_to
    if data.effective_from <= old.valid_from or (end is not None and data.effective_from > end):
        raise errors.amendment_conflict(
            "invalid_effective_date",
            f"An amendment takes effect after {old.valid_from} and no later than {end}.",
        )
    return await _store_new_version(
        session,
        _amended_terms(old, data),
        principal=principal,
        series_id=old.series_id,
        version_number=await repository.next_version_number(session, old.series_id),
        supersedes=old.id,
    )
