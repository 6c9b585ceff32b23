"""Agreement events: every one carries the version's full terms, written to the outbox
in the change's transaction with the version's ``version`` as the aggregate version."""

from __future__ import annotations

from typing import Any, Final

from sqlalchemy.ext.asyncio import AsyncSession
from vfu_common.events.contracts import EventContract
from vfu_common.messaging.outbox import emit

from agreements.contracting.models import Agreement
from agreements.contracting.terms import terms_fields

SOURCE: Final = "/vfu/agreements"


async def emit_agreement_event(
    session: AsyncSession, contract: EventContract, agreement: Agreement, **extra: Any
) -> None:
    """``contract``'s event for the agreement's current state (``extra``: event fields)."""
    payload = contract.payload(**terms_fields(agreement), **extra)
    await emit(
        session,
        contract,
        payload,
        source=SOURCE,
        aggregate_id=agreement.id,
        aggregate_version=agreement.version,
    )
