"""Moving agreements through their lifecycle: by the parties' requests (propose, sign,
abandon, give notice) and by date (activate, supersede, renew, terminate, expire, remind).

Request paths lock the row first, so their checks see the state they act on; every
change of status goes through ``contracting.transitions``.
"""

from __future__ import annotations

import calendar
import uuid
from datetime import date, timedelta

from sqlalchemy.ext.asyncio import AsyncSession
from vfu_common.events.contracts import (
    AGREEMENT_AMENDED,
    AGREEMENT_EXPIRY_UPCOMING,
    AGREEMENT_RENEWED,
    AGREEMENT_SIGNED,
)
from vfu_common.principal import Principal

from agreements.calendar import CALENDAR
from agreements.contracting import errors, repository, transitions
from agreements.contracting.drafting import refuse_amendment_in_progress
from agreements.contracting.events import emit_agreement_event
from agreements.contracting.models import Agreement
from agreements.contracting.service import load, load_for_manage, reload, require_party

# --- by the parties' requests --------------------------------------------------------------


async def propose(
    session: AsyncSession, agreement_id: uuid.UUID, *, principal: Principal
) -> Agreement:
    """Send a draft to its parties for signature; emits ``proposed``."""
    agreement = await load_for_manage(session, agreement_id, principal)
    return await _move(session, agreement, transitions.PROPOSE)


async def _move(
    session: AsyncSession, agreement: Agreement, transition: transitions.Transition
) -> Agreement:
    """A request-driven move and its event."""
    await transitions.apply(session, agreement, transition)
    moved = await reload(session, agreement.id)
    await emit_agreement_event(session, transition.event, moved)
    return moved


async def sign(
    session: AsyncSession, agreement_id: uuid.UUID, *, principal: Principal
) -> Agreement:
    """The caller's organisation signs for itself; activates when the last one signs.

    Raises:
        ProblemError: 403 ``not_a_party``; 409 ``already_signed`` or ``invalid_transition``.
    """
    agreement = await load(session, agreement_id, for_update=True)
    signer = require_party(principal, agreement)
    party = next(p for p in agreement.parties if p.organisation_id == signer)
    if party.signed_at is not None:
        raise errors.already_signed(signer)
    # A signature moves no status (the last one activates, below) but counts in the
    # version, on the condition that the agreement still awaits signatures.
    signing = transitions.ACTIVATE.sources
    if agreement.status not in signing or (
        await repository.update_if_in(session, agreement.id, expected=signing, values={}) is None
    ):
        raise errors.invalid_transition("sign", agreement.status)
    if not await repository.sign(session, agreement.id, signer, subject=principal.subject):
        raise errors.already_signed(signer)  # a concurrent request by the same party won
    agreement = await reload(session, agreement.id)
    await emit_agreement_event(session, AGREEMENT_SIGNED, agreement, signer_organisation_id=signer)
    activated = await activate_if_due(session, agreement.id, today=CALENDAR.today())
    return activated or agreement


async def abandon(
    session: AsyncSession, agreement_id: uuid.UUID, *, principal: Principal
) -> Agreement:
    """Give up an agreement before it became active; emits ``abandoned``."""
    agreement = await load_for_manage(session, agreement_id, principal)
    return await _move(session, agreement, transitions.ABANDON)


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
    agreement = await load(session, agreement_id, for_update=True)
    giver = require_party(principal, agreement)
    transitions.require_legal(agreement, transitions.GIVE_NOTICE)
    # An amendment waiting for signatures would otherwise outlive the notice.
    await refuse_amendment_in_progress(session, agreement)
    today = CALENDAR.today()
    until = add_months(today, agreement.notice_period_months or 0)
    end = agreement.effective_until or agreement.valid_to
    if end is not None and until > end:
        raise errors.notice_after_end(until.isoformat(), end.isoformat())
    await transitions.apply(
        session,
        agreement,
        transitions.GIVE_NOTICE,
        values={
            "effective_until": until,
            "notice_given_on": today,
            "notice_given_by_organisation_id": giver,
        },
    )
    moved = await reload(session, agreement.id)
    await emit_agreement_event(
        session,
        transitions.GIVE_NOTICE.event,
        moved,
        notice_given_by_organisation_id=giver,
        notice_given_on=today,
    )
    return moved


# --- by date (the scheduler, and the last signature) ---------------------------------------


async def due_activations(session: AsyncSession, today: date) -> list[uuid.UUID]:
    """Fully signed agreements waiting for their valid_from, which has arrived."""
    return await repository.fully_signed_from(session, today, transitions.ACTIVATE.sources)


async def due_endings(session: AsyncSession, today: date) -> list[uuid.UUID]:
    """Running agreements whose last covered day has passed."""
    return await repository.ended_before(session, today, transitions.RUNNING_STATUSES)


async def due_reminders(session: AsyncSession, today: date, last_day: date) -> list[uuid.UUID]:
    """Active agreements expiring by ``last_day`` that were not reminded yet."""
    return await repository.expiring_unreminded(
        session, today, last_day, transitions.EXPIRE.sources
    )


async def activate_if_due(
    session: AsyncSession, agreement_id: uuid.UUID, *, today: date
) -> Agreement | None:
    """Activate a fully signed agreement whose valid_from has arrived; None if not (now).

    For an amendment, the superseded version then ends the day before and ``amended``
    announces the new terms.
    """
    if not await transitions.try_apply(
        session,
        agreement_id,
        transitions.ACTIVATE,
        where=(Agreement.valid_from <= today, repository.all_signed()),
    ):
        return None
    agreement = await reload(session, agreement_id)
    await emit_agreement_event(session, transitions.ACTIVATE.event, agreement)
    if agreement.supersedes_agreement_id is not None:
        agreement = await _supersede(session, agreement, today=today)
    return agreement


async def _supersede(session: AsyncSession, new: Agreement, *, today: date) -> Agreement:
    assert new.supersedes_agreement_id is not None
    old = await reload(session, new.supersedes_agreement_id)
    last_day = new.valid_from - timedelta(days=1)
    current_end = old.effective_until or old.valid_to
    until = min(current_end, last_day) if current_end is not None else last_day
    # The old version may have ended already; then only the new terms are announced.
    if (
        await repository.update_if_in(
            session,
            old.id,
            expected=transitions.RUNNING_STATUSES,
            values={"effective_until": until},
        )
        is not None
    ):
        # Its last day has passed (the new one starts today or earlier): end it now, so its
        # own event carries the shortened end to every projection, not a later tick's.
        await end_if_due(session, old.id, today=today)
    await repository.update_if_in(
        session, new.id, expected=(transitions.ACTIVATE.target,), values={}
    )
    new = await reload(session, new.id)
    await emit_agreement_event(session, AGREEMENT_AMENDED, new)
    return new


def renewed_until(valid_to: date, months: int, today: date) -> date:
    """``valid_to`` moved on by whole renewal periods until it is today or later."""
    periods = 1
    while add_months(valid_to, months * periods) < today:
        periods += 1
    return add_months(valid_to, months * periods)


async def _renew_if_due(session: AsyncSession, agreement_id: uuid.UUID, today: date) -> bool:
    """Extend an auto-renewing agreement that reached valid_to with no notice or successor."""
    agreement = await load(session, agreement_id)
    months, valid_to = agreement.auto_renewal_months, agreement.valid_to
    if agreement.status != "active" or not months or valid_to is None or valid_to >= today:
        return False
    if agreement.effective_until is not None:  # superseded by an amendment: it ends
        return False
    version = await repository.update_if_in(
        session,
        agreement_id,
        expected=transitions.EXPIRE.sources,
        values={
            "valid_to": renewed_until(valid_to, months, today),
            "expiry_reminder_sent_on": None,
        },  # the next period gets its own reminder
        where=(Agreement.valid_to == valid_to, Agreement.effective_until.is_(None)),
    )
    if version is None:
        return False
    await emit_agreement_event(
        session, AGREEMENT_RENEWED, await reload(session, agreement_id), previous_valid_to=valid_to
    )
    return True


async def end_if_due(session: AsyncSession, agreement_id: uuid.UUID, *, today: date) -> str | None:
    """Renew, terminate (after notice) or expire an agreement past its last day.

    Returns the new status (``active`` after a renewal), or None when nothing was due.
    """
    if await _renew_if_due(session, agreement_id, today):
        return "active"
    past_end = (repository.end_date() < today,)
    for transition in (transitions.TERMINATE, transitions.EXPIRE):
        if await transitions.try_apply(session, agreement_id, transition, where=past_end):
            await emit_agreement_event(
                session, transition.event, await reload(session, agreement_id)
            )
            return transition.target
    return None


async def remind_if_due(
    session: AsyncSession, agreement_id: uuid.UUID, *, today: date, reminder_days: int
) -> bool:
    """Emit ``expiry_upcoming`` once per version, ``reminder_days`` before valid_to."""
    version = await repository.update_if_in(
        session,
        agreement_id,
        expected=transitions.EXPIRE.sources,
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
    agreement = await reload(session, agreement_id)
    assert agreement.valid_to is not None
    await emit_agreement_event(
        session,
        AGREEMENT_EXPIRY_UPCOMING,
        agreement,
        days_left=(agreement.valid_to - today).days,
    )
    return True
