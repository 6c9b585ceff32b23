"""Rules of the agreement aggregate; events are written in the same transaction.

Every state change is a conditional UPDATE (``WHERE status = :expected``) through
``repository.transition``, so whoever loses a race (a second scheduler, a request racing
the scheduler) changes nothing and emits nothing. Request paths also lock the row first,
so their checks see the state they act on.
"""

from __future__ import annotations

import calendar
import uuid
from collections.abc import Iterable, Sequence
from datetime import date, timedelta
from typing import Any

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession
from vfu_common.errors import ProblemError
from vfu_common.events.contracts import (
    AGREEMENT_ABANDONED,
    AGREEMENT_ACTIVATED,
    AGREEMENT_AMENDED,
    AGREEMENT_EXPIRED,
    AGREEMENT_EXPIRY_UPCOMING,
    AGREEMENT_NOTICE_GIVEN,
    AGREEMENT_PROPOSED,
    AGREEMENT_RENEWED,
    AGREEMENT_SIGNED,
    AGREEMENT_TERMINATED,
    EventContract,
)
from vfu_common.messaging.outbox import emit
from vfu_common.pagination import PageParams, encode_cursor, invalid_cursor
from vfu_common.principal import Principal
from vfu_common.utc import utcnow
from vfu_common.uuid7 import new_id
from vfu_domain.coverage import CoverageDecision, CoverageQuery, decide_coverage

from agreements.calendar import CALENDAR
from agreements.contracting import access, errors, repository
from agreements.contracting.models import (
    Agreement,
    AgreementDocument,
    AgreementParty,
    AgreementQuota,
    AgreementRate,
    AgreementScopeItem,
)
from agreements.contracting.schemas import AgreementAmend, AgreementCreate
from agreements.contracting.terms import terms_fields, to_terms

SOURCE = "/vfu/agreements"
# Roles that may read agreements; a portal reads published capacity, never agreements.
READER_ROLES = ("admin", "coordinator", "university", "provider")
# States before active: abandonable, and an amendment in them is still in progress.
PRE_ACTIVE = ("draft", "pending_signatures")


# --- access --------------------------------------------------------------------------------


def _require_reader(principal: Principal) -> None:
    if not principal.has_role(*READER_ROLES):
        raise errors.forbidden("Agreements are visible to their parties, coordinators and admins.")


def _party_ids(agreement: Agreement) -> set[uuid.UUID]:
    return {p.organisation_id for p in agreement.parties}


def _require_party(principal: Principal, agreement: Agreement) -> uuid.UUID:
    """The caller's organisation, which must be a party (signing and notice are per party)."""
    _require_reader(principal)
    organisation_id = principal.organisation_id
    if organisation_id is None or organisation_id not in _party_ids(agreement):
        raise errors.not_a_party(agreement.id)
    return organisation_id


async def _require_visible(
    session: AsyncSession, principal: Principal, agreement: Agreement
) -> None:
    """A party, an admin, or a coordinator of a party's healthcare region (else 403)."""
    _require_reader(principal)
    parties = _party_ids(agreement)
    if principal.organisation_id in parties or await access.oversees(session, principal, parties):
        return
    raise errors.not_a_party(agreement.id)


async def _load(
    session: AsyncSession, agreement_id: uuid.UUID, *, for_update: bool = False
) -> Agreement:
    agreement = await repository.get_full(session, agreement_id, for_update=for_update)
    if agreement is None:
        raise errors.agreement_not_found(agreement_id)
    return agreement


async def _reload(session: AsyncSession, agreement_id: uuid.UUID) -> Agreement:
    return await _load(session, agreement_id)


# --- events --------------------------------------------------------------------------------


async def _emit(
    session: AsyncSession,
    contract: EventContract,
    agreement: Agreement,
    **extra: Any,
) -> None:
    payload = contract.payload(**terms_fields(agreement), **extra)
    await emit(
        session,
        contract,
        payload,
        source=SOURCE,
        aggregate_id=agreement.id,
        aggregate_version=agreement.version,
    )


async def _change(
    session: AsyncSession,
    agreement: Agreement,
    *,
    action: str,
    expected: str | Sequence[str],
    values: dict[str, Any],
) -> Agreement:
    """A request-driven transition: refuse with the current state, else apply and reload."""
    states = (expected,) if isinstance(expected, str) else tuple(expected)
    if agreement.status not in states:
        raise errors.invalid_transition(action, agreement.status)
    version = await repository.transition(session, agreement.id, expected=states, values=values)
    if version is None:  # unreachable under the row lock; kept so a race can never emit
        raise errors.invalid_transition(action, agreement.status)
    return await _reload(session, agreement.id)


# --- creating ------------------------------------------------------------------------------


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
    for other in await repository.live_agreements_with_parties(session, parties):
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
        status="draft",
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
    return await _reload(session, agreement.id)


async def create_agreement(
    session: AsyncSession, *, data: AgreementCreate, principal: Principal
) -> Agreement:
    """Store a draft. No event: a draft is private until it is proposed.

    Raises:
        ProblemError: 403 unless admin, coordinator or a party; 422 ``too_few_parties``,
            ``duplicate_party``, ``unknown_party_organisation``, ``party_role_mismatch``
            or an invalid-terms code; 409 ``overlapping_agreement``.
    """
    _require_reader(principal)
    party_ids = _check_party_list(data)
    if principal.organisation_id not in party_ids and not await access.oversees(
        session, principal, party_ids
    ):
        raise errors.not_a_party()
    return await _store_new_version(session, data, principal=principal)


# --- reading -------------------------------------------------------------------------------


async def get_agreement(
    session: AsyncSession, agreement_id: uuid.UUID, *, principal: Principal
) -> Agreement:
    """One agreement version the caller may see (403 ``not_a_party`` otherwise)."""
    agreement = await _load(session, agreement_id)
    await _require_visible(session, principal, agreement)
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
    _require_reader(principal)
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


# --- request-driven transitions ------------------------------------------------------------


async def _load_for_manage(
    session: AsyncSession, agreement_id: uuid.UUID, principal: Principal
) -> Agreement:
    agreement = await _load(session, agreement_id, for_update=True)
    await _require_visible(session, principal, agreement)
    return agreement


async def propose(
    session: AsyncSession, agreement_id: uuid.UUID, *, principal: Principal
) -> Agreement:
    """Send a draft to its parties for signature; emits ``proposed``."""
    agreement = await _load_for_manage(session, agreement_id, principal)
    agreement = await _change(
        session,
        agreement,
        action="propose",
        expected="draft",
        values={"status": "pending_signatures"},
    )
    await _emit(session, AGREEMENT_PROPOSED, agreement)
    return agreement


async def sign(
    session: AsyncSession, agreement_id: uuid.UUID, *, principal: Principal
) -> Agreement:
    """The caller's organisation signs for itself; activates when the last one signs.

    Raises:
        ProblemError: 403 ``not_a_party``; 409 ``already_signed`` or ``invalid_transition``.
    """
    agreement = await _load(session, agreement_id, for_update=True)
    signer = _require_party(principal, agreement)
    party = next(p for p in agreement.parties if p.organisation_id == signer)
    if party.signed_at is not None:
        raise errors.already_signed(signer)
    agreement = await _change(
        session, agreement, action="sign", expected="pending_signatures", values={}
    )
    if not await repository.sign(session, agreement.id, signer, subject=principal.subject):
        raise errors.already_signed(signer)  # a concurrent request by the same party won
    agreement = await _reload(session, agreement.id)
    await _emit(session, AGREEMENT_SIGNED, agreement, signer_organisation_id=signer)
    activated = await activate_if_due(session, agreement.id, today=CALENDAR.today())
    return activated or agreement


async def abandon(
    session: AsyncSession, agreement_id: uuid.UUID, *, principal: Principal
) -> Agreement:
    """Give up an agreement before it became active; emits ``abandoned``."""
    agreement = await _load_for_manage(session, agreement_id, principal)
    agreement = await _change(
        session, agreement, action="abandon", expected=PRE_ACTIVE, values={"status": "abandoned"}
    )
    await _emit(session, AGREEMENT_ABANDONED, agreement)
    return agreement


def add_months(day: date, months: int) -> date:
    """``day`` plus whole calendar months, clamped to the end of a shorter month."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


async def give_notice(
    session: AsyncSession, agreement_id: uuid.UUID, *, principal: Principal
) -> Agreement:
    """A party gives notice today; the agreement ends after its notice period.

    Raises:
        ProblemError: 403 ``not_a_party``; 409 ``invalid_transition``,
            ``amendment_in_progress`` or ``notice_after_end``.
    """
    agreement = await _load(session, agreement_id, for_update=True)
    giver = _require_party(principal, agreement)
    if agreement.status != "active":
        raise errors.invalid_transition("give notice on", agreement.status)
    # An amendment waiting for signatures would otherwise outlive the notice.
    await _refuse_amendment_in_progress(session, agreement)
    today = CALENDAR.today()
    until = add_months(today, agreement.notice_period_months or 0)
    end = agreement.effective_until or agreement.valid_to
    if end is not None and until > end:
        raise errors.notice_after_end(until.isoformat(), end.isoformat())
    agreement = await _change(
        session,
        agreement,
        action="give notice on",
        expected="active",
        values={
            "status": "notice_given",
            "effective_until": until,
            "notice_given_on": today,
            "notice_given_by_organisation_id": giver,
        },
    )
    await _emit(
        session,
        AGREEMENT_NOTICE_GIVEN,
        agreement,
        notice_given_by_organisation_id=giver,
        notice_given_on=today,
    )
    return agreement


# --- amendments ----------------------------------------------------------------------------


async def _refuse_amendment_in_progress(session: AsyncSession, agreement: Agreement) -> None:
    for version in await repository.series(session, agreement.series_id):
        if version.status in PRE_ACTIVE:
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
    old = await _load_for_manage(session, agreement_id, principal)
    if old.status != "active":
        raise errors.invalid_transition("amend", old.status)
    await _refuse_amendment_in_progress(session, old)
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


# --- date-driven transitions (the scheduler, and the last signature) -----------------------


async def activate_if_due(
    session: AsyncSession, agreement_id: uuid.UUID, *, today: date
) -> Agreement | None:
    """Activate a fully signed agreement whose valid_from has arrived; None if not (now).

    For an amendment, the superseded version then ends the day before and ``amended``
    announces the new terms.
    """
    version = await repository.transition(
        session,
        agreement_id,
        expected="pending_signatures",
        values={"status": "active"},
        where=(Agreement.valid_from <= today, repository.all_signed()),
    )
    if version is None:
        return None
    agreement = await _reload(session, agreement_id)
    await _emit(session, AGREEMENT_ACTIVATED, agreement)
    if agreement.supersedes_agreement_id is not None:
        agreement = await _supersede(session, agreement, today=today)
    return agreement


async def _supersede(session: AsyncSession, new: Agreement, *, today: date) -> Agreement:
    assert new.supersedes_agreement_id is not None
    old = await _reload(session, new.supersedes_agreement_id)
    last_day = new.valid_from - timedelta(days=1)
    current_end = old.effective_until or old.valid_to
    until = min(current_end, last_day) if current_end is not None else last_day
    # The old version may have ended already; then only the new terms are announced.
    if (
        await repository.transition(
            session, old.id, expected=("active", "notice_given"), values={"effective_until": until}
        )
        is not None
    ):
        # Its last day has passed (the new one starts today or earlier): end it now, so its
        # own event carries the shortened end to every projection, not a later tick's.
        await end_if_due(session, old.id, today=today)
    await repository.transition(session, new.id, expected="active", values={})
    new = await _reload(session, new.id)
    await _emit(session, AGREEMENT_AMENDED, new)
    return new


def renewed_until(valid_to: date, months: int, today: date) -> date:
    """``valid_to`` moved on by whole renewal periods until it is today or later."""
    periods = 1
    while add_months(valid_to, months * periods) < today:
        periods += 1
    return add_months(valid_to, months * periods)


async def _renew_if_due(session: AsyncSession, agreement_id: uuid.UUID, today: date) -> bool:
    """Extend an auto-renewing agreement that reached valid_to with no notice or successor."""
    agreement = await _load(session, agreement_id)
    months, valid_to = agreement.auto_renewal_months, agreement.valid_to
    if agreement.status != "active" or not months or valid_to is None or valid_to >= today:
        return False
    if agreement.effective_until is not None:  # superseded by an amendment: it ends
        return False
    version = await repository.transition(
        session,
        agreement_id,
        expected="active",
        values={
            "valid_to": renewed_until(valid_to, months, today),
            "expiry_reminder_sent_on": None,
        },  # the next period gets its own reminder
        where=(Agreement.valid_to == valid_to, Agreement.effective_until.is_(None)),
    )
    if version is None:
        return False
    await _emit(
        session, AGREEMENT_RENEWED, await _reload(session, agreement_id), previous_valid_to=valid_to
    )
    return True


async def end_if_due(session: AsyncSession, agreement_id: uuid.UUID, *, today: date) -> str | None:
    """Renew, terminate (after notice) or expire an agreement past its last day.

    Returns the new status (``active`` after a renewal), or None when nothing was due.
    """
    if await _renew_if_due(session, agreement_id, today):
        return "active"
    past_end = (repository.end_date() < today,)
    for expected, ended, contract in (
        ("notice_given", "terminated", AGREEMENT_TERMINATED),
        ("active", "expired", AGREEMENT_EXPIRED),
    ):
        version = await repository.transition(
            session, agreement_id, expected=expected, values={"status": ended}, where=past_end
        )
        if version is not None:
            await _emit(session, contract, await _reload(session, agreement_id))
            return ended
    return None


async def remind_if_due(
    session: AsyncSession, agreement_id: uuid.UUID, *, today: date, reminder_days: int
) -> bool:
    """Emit ``expiry_upcoming`` once per version, ``reminder_days`` before valid_to."""
    version = await repository.transition(
        session,
        agreement_id,
        expected="active",
        values={"expiry_reminder_sent_on": today},
        where=(
            Agreement.expiry_reminder_sent_on.is_(None),
            Agreement.effective_until.is_(None),
            Agreement.valid_to <= today + timedelta(days=reminder_days),
            Agreement.valid_to >= today,
        ),
    )
    if version is None:
        return False
    agreement = await _reload(session, agreement_id)
    assert agreement.valid_to is not None
    await _emit(
        session,
        AGREEMENT_EXPIRY_UPCOMING,
        agreement,
        days_left=(agreement.valid_to - today).days,
    )
    return True


# --- coverage ------------------------------------------------------------------------------


async def coverage(
    session: AsyncSession, *, query: CoverageQuery, principal: Principal
) -> CoverageDecision:
    """Which of this service's agreements covers the placement (the shared rule decides).

    Raises:
        ProblemError: 403 unless admin, coordinator, or the university or the provider.
    """
    _require_reader(principal)
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
