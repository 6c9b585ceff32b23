"""The offer read model: what capacity providers offer, for the training-demand report.

Only the fields the report needs are kept (unit, provider, profession, term and dates,
places, supervision model, status). Offer events carry the offer's full state, so each
event replaces the row of its ``offer_id`` when its aggregate version is newer: a closed
or withdrawn offer stays closed even when an older ``updated`` event arrives late.
"""

from __future__ import annotations

from typing import Any, Final

from sqlalchemy import Column, Date, Index, Integer, String, Table, Uuid
from sqlalchemy.ext.asyncio import AsyncSession
from vfu_common.db import UtcDateTime, upsert_if_newer
from vfu_common.events.contracts import (
    OFFER_CLOSED,
    OFFER_PUBLISHED,
    OFFER_UPDATED,
    OFFER_WITHDRAWN,
    OfferV1,
)
from vfu_common.events.envelope import Envelope
from vfu_common.messaging.consumer import Handler
from vfu_common.utc import utcnow

from supervisors.models import metadata

TABLE: Final = "offer_projection"
# Serves "the published offers of provider X that have not ended".
_BY_PROVIDER: Final = "ix_offer_projection_provider_status_end"


def _columns() -> list[Any]:
    return [
        Column("offer_id", Uuid, primary_key=True),
        Column("unit_id", Uuid, nullable=False),
        Column("provider_id", Uuid, nullable=False),
        Column("programme_code", String(64), nullable=True),
        Column("profession_code", String(64), nullable=False),
        Column("term", String(7), nullable=False),
        Column("start_date", Date, nullable=False),
        Column("end_date", Date, nullable=False),
        Column("places", Integer, nullable=False),
        Column("confirmed_places", Integer, nullable=False),
        Column("supervision_model", String(20), nullable=False),
        Column("status", String(20), nullable=False),
        Column("aggregate_version", Integer, nullable=False),
        Column("updated_at", UtcDateTime, nullable=False),
    ]


_INDEX_COLUMNS: Final = ("provider_id", "status", "end_date")

offer_projection = Table(TABLE, metadata, *_columns())
Index(_BY_PROVIDER, *(offer_projection.c[name] for name in _INDEX_COLUMNS))


async def on_offer_event(session: AsyncSession, envelope: Envelope, payload: OfferV1) -> None:
    """Store the offer's state the event carries, if its aggregate version is newer."""
    await upsert_if_newer(
        session,
        offer_projection,
        {
            "offer_id": payload.offer_id,
            "unit_id": payload.unit_id,
            "provider_id": payload.provider_id,
            "programme_code": payload.programme_code,
            "profession_code": payload.profession_code,
            "term": payload.term,
            "start_date": payload.start_date,
            "end_date": payload.end_date,
            "places": payload.places,
            "confirmed_places": payload.confirmed_places,
            "supervision_model": payload.supervision_model,
            "status": payload.status,
            "aggregate_version": envelope.aggregateversion,
            "updated_at": utcnow(),
        },
        key="offer_id",
    )


HANDLERS: dict[str, Handler] = {
    contract.event_type: on_offer_event
    for contract in (OFFER_PUBLISHED, OFFER_UPDATED, OFFER_CLOSED, OFFER_WITHDRAWN)
}
