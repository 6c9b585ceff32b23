"""Synthetic placements data for the search benchmark, written into a migrated database.

Written straight into the placements service's tables, so it lives in the test-support
package; ``bench/search_latency.py`` uses it. The spread aims at what the portal search
will meet: units in every municipality (the big cities weighted up), providers that are
regions, municipalities and private companies, every care setting, six terms, a dozen
programmes, places 1-8 of which some are held or confirmed (about one offer in six
full), a fifth visible to partners only, and some drafts, closed and withdrawn offers
besides the published ones. Everything is drawn from one seeded random generator, so a
seed gives the same database every time.
"""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from placements.offers.models import capacity_offers
from placements.projections.agreements import agreement_parties, agreements
from placements.units.models import care_units
from placements.vocabularies import CARE_SETTINGS, LEVELS
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncEngine
from vfu_domain.organisation_projection import organisations
from vfu_domain.reference import counties, municipalities
from vfu_domain.terms import term_window

#: County seats (approximate), the centre each county's units are scattered around.
COUNTY_CENTRES: dict[str, tuple[float, float]] = {
    "01": (59.33, 18.07),
    "03": (59.86, 17.64),
    "04": (58.75, 17.01),
    "05": (58.41, 15.62),
    "06": (57.78, 14.16),
    "07": (56.88, 14.81),
    "08": (56.66, 16.36),
    "09": (57.64, 18.30),
    "10": (56.16, 15.59),
    "12": (55.60, 13.00),
    "13": (56.67, 12.86),
    "14": (57.71, 11.97),
    "17": (59.38, 13.50),
    "18": (59.27, 15.21),
    "19": (59.61, 16.55),
    "20": (60.61, 15.63),
    "21": (60.67, 17.14),
    "22": (62.63, 17.94),
    "23": (63.18, 14.64),
    "24": (63.83, 20.26),
    "25": (65.58, 22.15),
}
BIG_MUNICIPALITIES = {"0180": 12, "1480": 8, "1280": 6, "0380": 5, "0580": 4, "1880": 3}
TERMS = ("2026-HT", "2027-VT", "2027-HT", "2028-VT", "2028-HT", "2029-VT")
PROGRAMMES = (  # (programme, profession, weight)
    ("sjukskoterskeprogrammet", "sjukskoterska", 40),
    ("specialistsjukskoterskeprogrammet", "sjukskoterska", 8),
    ("lakarprogrammet", "lakare", 15),
    ("fysioterapeutprogrammet", "fysioterapeut", 8),
    ("arbetsterapeutprogrammet", "arbetsterapeut", 6),
    ("barnmorskeprogrammet", "barnmorska", 5),
    ("psykologprogrammet", "psykolog", 4),
    ("tandlakarprogrammet", "tandlakare", 3),
    ("logopedprogrammet", "logoped", 3),
    ("biomedicinska_analytikerprogrammet", "biomedicinsk_analytiker", 3),
    ("rontgensjukskoterskeprogrammet", "rontgensjukskoterska", 3),
    ("dietistprogrammet", "dietist", 2),
)
SUPERVISION = (("one_to_one", 50), ("peer_2_to_1", 25), ("group", 15), ("student_ward", 10))
MUNICIPAL_SETTINGS = ("kommunal_halso_och_sjukvard", "aldreomsorg", "hemsjukvard")
REQUIREMENTS = ("utdrag ur belastningsregistret", "svenska B2", "körkort", "hygienutbildning")
#: The university the benchmark's "university" caller acts for, and how many providers it
#: has covering agreements with (their partner-only offers are visible to it).
BENCH_UNIVERSITY = uuid.UUID("00000000-0000-7000-8000-00000000beef")
PARTNER_REGIONS = ("01", "03", "12", "14", "24")
_BATCH = 2000


@dataclass(frozen=True)
class Generated:
    """What was written, for the benchmark's report."""

    units: int
    offers: int
    published: int
    providers: int


def _uuid(rng: random.Random) -> uuid.UUID:
    # UUIDv7-shaped ids in random order would not change the plans; random v4 is enough.
    return uuid.UUID(int=rng.getrandbits(128), version=4)


def _providers(
    rng: random.Random,
) -> tuple[dict[str, uuid.UUID], dict[str, uuid.UUID], list[uuid.UUID]]:
    regions = {county.lan_code: _uuid(rng) for county in counties()}
    towns = {code: _uuid(rng) for code in municipalities()}
    private = [_uuid(rng) for _ in range(30)]
    return regions, towns, private


def _organisation_rows(
    regions: dict[str, uuid.UUID], towns: dict[str, uuid.UUID], private: list[uuid.UUID]
) -> list[dict[str, Any]]:
    now = datetime.now(UTC)
    rows: list[tuple[uuid.UUID, str, str, str | None, int]] = []
    for n, county in enumerate(counties()):
        rows.append((regions[county.lan_code], county.region_name, "region", None, n))
    for n, (code, town) in enumerate(municipalities().items()):
        rows.append((towns[code], f"{town.name} kommun", "municipality", code, 100 + n))
    for n, org in enumerate(private):
        rows.append((org, f"Vårdbolaget {n} AB", "private_provider", None, 1000 + n))
    return [
        {
            "id": org,
            "organisation_number": f"55{number:08d}",
            "kind": kind,
            "name": name,
            "municipality_code": code,
            "aggregate_version": 1,
            "updated_at": now,
        }
        for org, name, kind, code, number in rows
    ]


def _unit_rows(
    rng: random.Random,
    count: int,
    regions: dict[str, uuid.UUID],
    towns: dict[str, uuid.UUID],
    private: list[uuid.UUID],
) -> list[dict[str, Any]]:
    codes = list(municipalities())
    weights = [BIG_MUNICIPALITIES.get(code, 1) for code in codes]
    now = datetime.now(UTC)
    rows = []
    for n in range(count):
        code = rng.choices(codes, weights)[0]
        town = municipalities()[code]
        kind = rng.random()
        if kind < 0.25:
            provider, setting = towns[code], rng.choice(MUNICIPAL_SETTINGS)
        elif kind < 0.30:
            provider, setting = rng.choice(private), rng.choice(CARE_SETTINGS)
        else:
            provider, setting = regions[town.lan_code], rng.choice(CARE_SETTINGS)
        lat, lon = COUNTY_CENTRES[town.lan_code]
        spread = 1.0 if town.lan_code in {"23", "24", "25"} else 0.4
        located = rng.random() < 0.95  # a few units have no coordinates
        rows.append(
            {
                "id": _uuid(rng),
                "provider_id": provider,
                "name": f"Enhet {n}",
                "hsa_id": None,
                "municipality_code": code,
                "county_code": town.lan_code,
                "healthcare_region": town.healthcare_region,
                "care_setting": setting,
                "latitude": lat + rng.uniform(-spread, spread) if located else None,
                "longitude": lon + rng.uniform(-spread, spread) * 1.8 if located else None,
                "rural": rng.random() < 0.2,
                "vulnerable_area": rng.random() < 0.1,
                "special_requirements": json.dumps(rng.sample(REQUIREMENTS, rng.randint(0, 2))),
                "version": 1,
                "created_at": now,
                "updated_at": now,
            }
        )
    return rows


def _dates(rng: random.Random, term: str) -> tuple[date, date]:
    window = term_window(term)
    weeks = rng.randint(2, 10)
    latest_start = window.last_day - timedelta(weeks=weeks)
    start = window.first_day + timedelta(
        days=rng.randint(0, (latest_start - window.first_day).days)
    )
    return start, start + timedelta(weeks=weeks) - timedelta(days=3)


def _offer_row(
    rng: random.Random, unit: dict[str, Any], status: str, now: datetime
) -> dict[str, Any]:
    programme, profession, _ = rng.choices(PROGRAMMES, [p[2] for p in PROGRAMMES])[0]
    model = rng.choices([s[0] for s in SUPERVISION], [s[1] for s in SUPERVISION])[0]
    places = rng.randint(1, 4) * 2 if model == "peer_2_to_1" else rng.randint(1, 8)
    taken = places if rng.random() < 0.17 else rng.randint(0, places - 1)
    held = rng.randint(0, taken)
    term = rng.choice(TERMS)
    start, end = _dates(rng, term)
    published = now - timedelta(minutes=rng.randint(0, 60 * 24 * 200))
    return {
        "id": _uuid(rng),
        "unit_id": unit["id"],
        "provider_id": unit["provider_id"],
        "programme_code": programme,
        "profession_code": profession,
        "level": rng.choice(LEVELS),
        "term": term,
        "start_date": start,
        "end_date": end,
        "places": places,
        "held_places": held,
        "confirmed_places": taken - held,
        "supervision_model": model,
        "visibility": "partners" if rng.random() < 0.2 else "all",
        "status": status,
        "auto_confirm": False,
        "requirements": json.dumps(rng.sample(REQUIREMENTS, rng.randint(0, 2))),
        "municipality_code": unit["municipality_code"],
        "county_code": unit["county_code"],
        "healthcare_region": unit["healthcare_region"],
        "care_setting": unit["care_setting"],
        "rural": unit["rural"],
        "vulnerable_area": unit["vulnerable_area"],
        "latitude": unit["latitude"],
        "longitude": unit["longitude"],
        "published_at": None if status == "draft" else published,
        "version": 1,
        "created_at": now,
        "updated_at": now,
    }


def _offer_rows(
    rng: random.Random, units: list[dict[str, Any]], published: int, others: int
) -> Iterator[dict[str, Any]]:
    now = datetime.now(UTC)
    statuses = ["published"] * published + [
        rng.choice(("draft", "closed", "withdrawn")) for _ in range(others)
    ]
    rng.shuffle(statuses)
    for status in statuses:
        yield _offer_row(rng, rng.choice(units), status, now)


def _agreement_rows(
    regions: dict[str, uuid.UUID],
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    now = datetime.now(UTC)
    rows, parties = [], []
    for county in PARTNER_REGIONS:
        agreement_id = uuid.uuid5(BENCH_UNIVERSITY, county)
        rows.append(
            {
                "agreement_id": agreement_id,
                "series_id": agreement_id,
                "status": "active",
                "terms": "{}",  # the search reads statuses and parties only
                "valid_from": date(2026, 1, 1),
                "effective_until": None,
                "aggregate_version": 1,
                "updated_at": now,
            }
        )
        parties += [
            {
                "agreement_id": agreement_id,
                "organisation_id": BENCH_UNIVERSITY,
                "role": "university",
            },
            {"agreement_id": agreement_id, "organisation_id": regions[county], "role": "region"},
        ]
    return rows, parties


async def _insert_batches(engine: AsyncEngine, table: Any, rows: Any) -> int:
    batch: list[dict[str, Any]] = []
    count = 0
    for row in rows:
        batch.append(row)
        if len(batch) == _BATCH:
            async with engine.begin() as conn:
                await conn.execute(insert(table), batch)
            count += len(batch)
            batch = []
    if batch:
        async with engine.begin() as conn:
            await conn.execute(insert(table), batch)
        count += len(batch)
    return count


async def generate(
    engine: AsyncEngine, *, published: int, others: int, units: int, seed: int = 4
) -> Generated:
    """Fill a migrated placements database (its tables must be empty)."""
    rng = random.Random(seed)  # noqa: S311 - synthetic data, reproducible from the seed
    regions, towns, private = _providers(rng)
    await _insert_batches(engine, organisations, _organisation_rows(regions, towns, private))
    agreement_rows, party_rows = _agreement_rows(regions)
    await _insert_batches(engine, agreements, agreement_rows)
    await _insert_batches(engine, agreement_parties, party_rows)
    unit_rows = _unit_rows(rng, units, regions, towns, private)
    await _insert_batches(engine, care_units, unit_rows)
    offers = await _insert_batches(
        engine, capacity_offers, _offer_rows(rng, unit_rows, published, others)
    )
    return Generated(
        units=len(unit_rows),
        offers=offers,
        published=published,
        providers=len(regions) + len(towns) + len(private),
    )
