"""Supervisor events: one payload builder from the supervisors row and its unit ids.

``SupervisorV1`` carries ids, profession and qualification only: name,
HSA-id, employer reference and roles never leave the service. Every supervisor event is
built here from the stored row, so consumers see the same state whichever command
changed it, with the row's ``version`` as the aggregate version.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any, Final

from sqlalchemy.ext.asyncio import AsyncSession
from vfu_common.events.contracts import (
    QUALIFICATION_CHANGED,
    EventContract,
    QualificationChangedV1,
    SupervisorV1,
)
from vfu_common.messaging.outbox import emit

from supervisors.registry.models import Supervisor

SOURCE: Final = "/vfu/supervisors"
_ROW_FIELDS: Final = (
    "employer_id",
    "profession_code",
    "max_concurrent_students",
    "active",
    "licence_verified",
    "level_achieved",
    "required_level",
    "qualified",
)


def supervisor_payload(
    contract: EventContract,
    row: Supervisor,
    unit_ids: Iterable[uuid.UUID],
    **extra: Any,
) -> SupervisorV1:
    """The ``contract``'s payload for a ``supervisors`` row (``extra``: event-specific fields)."""
    fields: dict[str, Any] = {name: getattr(row, name) for name in _ROW_FIELDS}
    fields["supervisor_id"] = row.id
    fields["unit_ids"] = sorted(unit_ids)
    payload = contract.payload.model_validate(fields | extra)
    assert isinstance(payload, SupervisorV1)
    return payload


async def emit_supervisor_event(
    session: AsyncSession,
    contract: EventContract,
    row: Supervisor,
    unit_ids: Iterable[uuid.UUID],
) -> None:
    """Write ``contract`` for the supervisor's current state to the outbox (same transaction)."""
    await emit(
        session,
        contract,
        supervisor_payload(contract, row, unit_ids),
        source=SOURCE,
        aggregate_id=row.id,
        aggregate_version=int(row.version),
    )


async def emit_qualification_changed(
    session: AsyncSession,
    row: Supervisor,
    unit_ids: Iterable[uuid.UUID],
    *,
    previous_qualified: bool,
    previous_level_achieved: str | None,
) -> None:
    """``qualification.changed`` for the row's new qualification, with the previous one."""
    payload = supervisor_payload(
        QUALIFICATION_CHANGED,
        row,
        unit_ids,
        previous_qualified=previous_qualified,
        previous_level_achieved=previous_level_achieved,
        reason=row.qualification_reason,
    )
    assert isinstance(payload, QualificationChangedV1)
    await emit(
        session,
        QUALIFICATION_CHANGED,
        payload,
        source=SOURCE,
        aggregate_id=row.id,
        aggregate_version=int(row.version),
    )
