"""The agreement state machine: its statuses, its legal moves, and the only code that
changes an agreement's status.

``draft → pending_signatures → active → (notice_given → terminated) | expired``, and
``abandoned`` from either state before active. An agreement becomes active when every
party has signed and ``valid_from`` has arrived (the last signature or the scheduler);
it terminates at the end of its notice period and expires after ``valid_to`` (unless it
renews itself). Every move is a conditional UPDATE on the statuses it may start from, so
whoever loses a race (a second scheduler, a request racing the scheduler) changes
nothing and emits nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, get_args

from sqlalchemy import ColumnElement
from sqlalchemy.ext.asyncio import AsyncSession
from vfu_common.events.contracts import (
    AGREEMENT_ABANDONED,
    AGREEMENT_ACTIVATED,
    AGREEMENT_EXPIRED,
    AGREEMENT_NOTICE_GIVEN,
    AGREEMENT_PROPOSED,
    AGREEMENT_TERMINATED,
    AgreementStatus,
    EventContract,
)

from agreements.contracting import errors, repository
from agreements.contracting.models import Agreement

STATUSES: Final[tuple[AgreementStatus, ...]] = get_args(AgreementStatus)
DRAFT: Final[AgreementStatus] = "draft"
# Before active: abandonable, and an amendment in them is still in progress.
PRE_ACTIVE_STATUSES: Final[tuple[AgreementStatus, ...]] = ("draft", "pending_signatures")
# In force now: they end by date, and an amendment may supersede them.
RUNNING_STATUSES: Final[tuple[AgreementStatus, ...]] = ("active", "notice_given")
# Not given up or ended: a new agreement must not overlap them.
LIVE_STATUSES: Final[tuple[AgreementStatus, ...]] = (*PRE_ACTIVE_STATUSES, *RUNNING_STATUSES)


@dataclass(frozen=True)
class Transition:
    """One legal move: from any of ``sources`` to ``target``, announced by ``event``."""

    action: str
    sources: tuple[AgreementStatus, ...]
    target: AgreementStatus
    event: EventContract


PROPOSE: Final = Transition("propose", ("draft",), "pending_signatures", AGREEMENT_PROPOSED)
ABANDON: Final = Transition("abandon", PRE_ACTIVE_STATUSES, "abandoned", AGREEMENT_ABANDONED)
ACTIVATE: Final = Transition("activate", ("pending_signatures",), "active", AGREEMENT_ACTIVATED)
GIVE_NOTICE: Final = Transition(
    "give notice on", ("active",), "notice_given", AGREEMENT_NOTICE_GIVEN
)
TERMINATE: Final = Transition("terminate", ("notice_given",), "terminated", AGREEMENT_TERMINATED)
EXPIRE: Final = Transition("expire", ("active",), "expired", AGREEMENT_EXPIRED)
TRANSITIONS: Final = (PROPOSE, ABANDON, ACTIVATE, GIVE_NOTICE, TERMINATE, EXPIRE)


def require_legal(agreement: Agreement, transition: Transition) -> None:
    """Refuse (409 ``invalid_transition``) a move from the agreement's status."""
    if agreement.status not in transition.sources:
        raise errors.invalid_transition(transition.action, agreement.status)


async def try_apply(
    session: AsyncSession,
    agreement_id: uuid.UUID,
    transition: Transition,
    *,
    values: Mapping[str, Any] | None = None,
    where: Sequence[ColumnElement[bool]] = (),
) -> bool:
    """Move the agreement by ``transition`` if it is in a source status and ``where``
    holds; False when it is not (someone moved it first, or nothing is due)."""
    version = await repository.update_if_in(
        session,
        agreement_id,
        expected=transition.sources,
        values={**(values or {}), "status": transition.target},
        where=where,
    )
    return version is not None


async def apply(
    session: AsyncSession,
    agreement: Agreement,
    transition: Transition,
    *,
    values: Mapping[str, Any] | None = None,
) -> None:
    """Move ``agreement`` (read under its row lock) by ``transition``.

    Raises:
        ProblemError: 409 ``invalid_transition``.
    """
    require_legal(agreement, transition)
    if not await try_apply(session, agreement.id, transition, values=values):
        # Unreachable under the row lock; kept so that a race can never emit.
        raise errors.invalid_transition(transition.action, agreement.status)
