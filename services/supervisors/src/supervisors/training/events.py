"""Training record events: one payload builder from the record view.

``TrainingRecordV1`` carries ids, the course level, status and dates only (no personal
field). Every record event is built here from the stored record joined to its course
and supervisor (``repository.get_record``), with the record's ``version`` as the
aggregate version, so consumers see the same state whichever command changed it.
"""

from __future__ import annotations

from typing import Final

from sqlalchemy.ext.asyncio import AsyncSession
from vfu_common.events.contracts import (
    TRAINING_RECORDED,
    TRAINING_VERIFIED,
    EventContract,
    TrainingRecordV1,
)
from vfu_common.messaging.outbox import emit

from supervisors.training.repository import RecordView

SOURCE: Final = "/vfu/supervisors"
_VIEW_FIELDS: Final = (
    "supervisor_id",
    "employer_id",
    "course_id",
    "issuer_id",
    "course_level",
    "status",
    "completed_on",
    "verified_at",
)


def record_payload(contract: EventContract, record: RecordView) -> TrainingRecordV1:
    """The ``contract``'s payload for a record of the record view."""
    fields = {name: getattr(record, name) for name in _VIEW_FIELDS}
    payload = contract.payload.model_validate({**fields, "record_id": record.id})
    assert isinstance(payload, TrainingRecordV1)
    return payload


async def emit_record_events(session: AsyncSession, record: RecordView) -> None:
    """``training.recorded`` for the record's state, and ``training.verified`` on verification.

    Both carry the record's version: a consumer of either stream applies each state once.
    """
    contracts = [TRAINING_RECORDED]
    if record.status == "verified":
        contracts.append(TRAINING_VERIFIED)
    for contract in contracts:
        await emit(
            session,
            contract,
            record_payload(contract, record),
            source=SOURCE,
            aggregate_id=record.id,
            aggregate_version=record.version,
        )
