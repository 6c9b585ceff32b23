"""Placements data for the booking benchmark, and an in-process profile of a booking.

Written straight into a migrated placements database with the service's own tables
(which is why it lives in the test-support package and not in bench/: benchmarks talk
to the running system, and what must reach inside a service is here, once).
"""

from __future__ import annotations

import time
import uuid
from datetime import date
from typing import Any

import httpx
from placements.main import create_app
from placements.offers.models import capacity_offers
from placements.projections.agreements import HANDLERS
from placements.settings import Settings
from placements.units.models import care_units
from sqlalchemy import event, insert
from vfu_common.db import Database
from vfu_common.events.contracts import AGREEMENT_ACTIVATED, AgreementPartyV1, AgreementTermsV1
from vfu_common.internal_token import generate_keypair
from vfu_common.messaging.outbox import build_envelope
from vfu_common.utc import utcnow
from vfu_common.uuid7 import new_id

from vfu_testing.placements_rows import offer_row, unit_row
from vfu_testing.tokens import identity_headers

PLENTY = 100_000_000  # places on every seeded offer: they never run out
BOOKINGS_PATH = "/api/v1/placements/bookings"


async def seed_bookable_offers(
    database_url: str,
    university_id: uuid.UUID,
    provider_id: uuid.UUID,
    layout: dict[str, dict[str, int]],
) -> dict[str, dict[str, list[uuid.UUID]]]:
    """An active agreement, a unit and published offers, written straight to the database.

    ``layout`` says how many offers to make per group and subgroup (the benchmark's
    target kind and mode); the answer has their ids in the same shape. Each offer has
    ``PLENTY`` places, far more than the API allows (1000), so a benchmark never meets
    a full offer.
    """

    db = Database(database_url)
    try:
        agreement_id = new_id()
        terms = AgreementTermsV1(
            agreement_id=agreement_id,
            series_id=agreement_id,
            version_number=1,
            agreement_type="bilateral_vfu",
            title="Bench agreement",
            status="active",
            parties=[
                AgreementPartyV1(organisation_id=university_id, role="university"),
                AgreementPartyV1(organisation_id=provider_id, role="region"),
            ],
            programmes=["sjukskoterskeprogrammet"],
            professions=["sjukskoterska"],
            valid_from=date(2027, 1, 1),
            valid_to=date(2028, 12, 31),
        )
        payload = AGREEMENT_ACTIVATED.payload.model_validate(terms.model_dump())
        envelope = build_envelope(
            AGREEMENT_ACTIVATED,
            payload,
            source="/vfu/bench",
            aggregate_id=agreement_id,
            aggregate_version=1,
        )
        now = utcnow()
        unit = unit_row(provider_id, name="Bench ward", now=now)
        offers: dict[str, dict[str, list[uuid.UUID]]] = {}
        rows = []
        for group, subgroups in layout.items():
            offers[group] = {}
            for subgroup, count in subgroups.items():
                ids = [new_id() for _ in range(count)]
                offers[group][subgroup] = ids
                rows += [offer_row(unit, id=offer_id, places=PLENTY, now=now) for offer_id in ids]
        async with db.write() as session:
            await HANDLERS[AGREEMENT_ACTIVATED.event_type](session, envelope, payload)
            await session.execute(insert(care_units).values(**unit))
            await session.execute(insert(capacity_offers), rows)
        return offers
    finally:
        await db.dispose()


def statement_label(statement: str) -> str:
    """``INSERT bookings``, ``SELECT idempotency_keys``, ``BEGIN``: what a statement is."""
    words = statement.replace("(", " ").split()
    verb = words[0].upper() if words else "?"
    if verb in ("INSERT", "DELETE") and len(words) > 2:
        return f"{verb} {words[2]}"
    if verb == "UPDATE" and len(words) > 1:
        return f"{verb} {words[1]}"
    if verb == "SELECT" and "FROM" in (w.upper() for w in words):
        upper = [w.upper() for w in words]
        return f"SELECT {words[upper.index('FROM') + 1]}"
    return verb


async def profile_bookings(
    database_url: str, university_id: uuid.UUID, offer_id: uuid.UUID, count: int
) -> str:
    """Timing spans of ``count`` sequential bookings in-process (ASGI app, no network).

    Every SQL statement is timed by the engine's cursor events (the driver round trip
    and SQLAlchemy's work around it); what is left of the request is Python: HTTP
    parsing, the identity token, validation, rules, JSON, events.
    """

    private_pem, public_pem = generate_keypair()
    settings = Settings(
        database_url=database_url,
        nats_url="nats://127.0.0.1:1",  # no bus (no relay): the request path alone
        internal_public_key=public_pem,
        log_level="ERROR",
        lifecycle_enabled=False,
    )
    app = create_app(settings)
    body = {"offer_id": str(offer_id), "places": 1, "course_code": "BENCH", "course_instance": "P"}
    headers = identity_headers(
        roles={"university"},
        organisation_id=university_id,
        subject="bench-profile",
        private_key_pem=private_pem,
        ttl_seconds=3600,
    )
    spent: dict[str, float] = {}
    calls: dict[str, int] = {}
    started: list[float] = []

    def before(_conn: Any, _cursor: Any, _statement: str, *_: Any) -> None:
        started.append(time.perf_counter())

    def after(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        label = statement_label(statement)
        spent[label] = spent.get(label, 0.0) + time.perf_counter() - started.pop()
        calls[label] = calls.get(label, 0) + 1

    async with app.router.lifespan_context(app):
        engine = app.state.runtime.db.write_engine.sync_engine
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:

            async def book() -> None:
                key = {"Idempotency-Key": str(uuid.uuid4())}
                response = await client.post(BOOKINGS_PATH, json=body, headers=headers | key)
                if response.status_code != 201:
                    raise RuntimeError(f"profiled booking gave {response.status_code}")

            for _ in range(20):  # warm caches and pools
                await book()
            begun = time.perf_counter()
            for _ in range(count):
                await client.get("/healthz")
            floor = time.perf_counter() - begun
            event.listen(engine, "before_cursor_execute", before)
            event.listen(engine, "after_cursor_execute", after)
            begun = time.perf_counter()
            for _ in range(count):
                await book()
            total = time.perf_counter() - begun
            event.remove(engine, "before_cursor_execute", before)
            event.remove(engine, "after_cursor_execute", after)
    lines = [
        f"{count} sequential bookings in-process: {total / count * 1000:.2f} ms each "
        f"(GET /healthz the same way, the client and ASGI floor: {floor / count * 1000:.2f} ms)"
    ]
    for label, seconds in sorted(spent.items(), key=lambda kv: -kv[1]):
        per = calls[label] / count
        lines.append(f"  {label:32s} {seconds / count * 1000:6.3f} ms  ({per:g} per booking)")
    outside = total - sum(spent.values())
    lines.append(
        f"  {'outside SQL statements':32s} {outside / count * 1000:6.3f} ms  (HTTP on both "
        "sides, token, validation, rules, JSON, events; on PostgreSQL also BEGIN/COMMIT)"
    )
    return "\n".join(lines)
