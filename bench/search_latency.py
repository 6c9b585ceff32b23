"""Portal search latency over 100,000 published offers, against hand-written SQL.

    .venv/bin/python bench/search_latency.py [--databases sqlite,postgres] [--duration 20]

Per database (a SQLite file in a temporary directory; a fresh PostgreSQL database named
``vfu_bench_<random>`` on ``VFU_BENCH_DATABASE_URL``, default
``postgresql://postgres@127.0.0.1:5432/test``, dropped at the end):

1. migrate the placements schema to head and fill it with ``search_data.generate``
   (100,000 published offers plus 10,000 drafts, closed and withdrawn ones, 6,000 units
   in every municipality, providers in the organisation projection, agreements giving
   the benchmark university five partner regions); PostgreSQL is ANALYZEd as autovacuum
   would, SQLite is left without statistics as the service runs it (``--sqlite-analyze``
   measures it with them);
2. start a nats-server and the placements service (``python -m placements`` under
   uvicorn, one process) on free ports, and call it **directly** with internal tokens
   minted with the test key (vfu_testing.tokens), not through the gateway: the figure is
   the search's, the gateway's hop is measured by gateway_overhead.py;
3. check that every query of the mix returns the same offers through HTTP and as
   hand-written SQL, then load both with ``--concurrency`` closed-loop clients (default
   8) in ``--rounds`` interleaved slices (the order alternates every round), each after
   ``--warmup`` unmeasured seconds, so both see the same machine.

The baseline: each query of the mix written by hand as SQL text with the same filters,
visibility and order, in the same shape as the service's statement (choose the page's
ids from capacity_offers, then join the unit and provider for those rows), run through
asyncpg (a pool of N connections) or sqlite3 (N threads, one connection each), fetching
every row. The ratio therefore prices the service's stack — HTTP, token check,
validation, SQLAlchemy, JSON, ETag — over the same database work.

Targets: p95 at 8 clients <= 3x the SQL's p95, and < 50 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import shutil
import sqlite3
import sys
import tempfile
import threading
import time
import urllib.parse
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
from _support import (
    PYTHON,
    ChildProcesses,
    free_port,
    http_json,
    install_sigterm_as_interrupt,
    load_line,
    machine_line,
    percentile,
    print_table,
    wait_http_ok,
)
from sqlalchemy.ext.asyncio import create_async_engine
from vfu_common.internal_token import INTERNAL_HEADER
from vfu_common.migrations import upgrade
from vfu_devrun.processes import NatsServer
from vfu_testing import search_data
from vfu_testing.tokens import mint_internal_token, test_keypair

ROOT = Path(__file__).resolve().parents[1]
ALEMBIC_INI = ROOT / "services" / "placements" / "alembic.ini"
DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/test"
SEARCH_PATH = "/api/v1/placements/search/offers"
PAGE = 20
TARGET_RATIO = 3.0
TARGET_P95_MS = 50.0


# --------------------------------------------------------------------------- the mix


@dataclass(frozen=True)
class Query:
    """One typical portal question: who asks, and the query string."""

    name: str
    role: str  # "portal" (no organisation) or "university" (the benchmark university)
    params: dict[str, Any]
    page_two: bool = False  # follow next_cursor of the first page


MIX = [
    Query("term+profession", "portal", {"term": "2027-HT", "profession_code": "sjukskoterska"}),
    Query(
        "term+profession, page 2",
        "portal",
        {"term": "2027-HT", "profession_code": "sjukskoterska"},
        page_two=True,
    ),
    Query(
        "term+programme+county",
        "portal",
        {"term": "2027-HT", "programme_code": "lakarprogrammet", "county_code": "12"},
    ),
    Query(
        "profession+region+setting (university)",
        "university",
        {
            "profession_code": "sjukskoterska",
            "healthcare_region": "Södra",
            "care_setting": "primarvard",
        },
    ),
    Query("term+municipality", "portal", {"term": "2027-HT", "municipality_code": "1480"}),
    Query("no filter", "portal", {}),
    Query(
        "term+profession+rural (university)",
        "university",
        {"term": "2028-VT", "profession_code": "fysioterapeut", "rural": True},
    ),
    Query(
        "date window+level",
        "portal",
        {
            "starts_on_or_after": "2027-09-01",
            "ends_on_or_before": "2027-10-31",
            "level": "avancerad_niva",
        },
    ),
    Query(
        "50 km of Uppsala+term, by distance",
        "portal",
        {
            "near_lat": 59.8586,
            "near_lon": 17.6389,
            "within_km": 50,
            "term": "2027-VT",
            "sort": "distance",
        },
    ),
    Query(
        "30 km of Göteborg+profession, by distance (university)",
        "university",
        {
            "near_lat": 57.7089,
            "near_lon": 11.9746,
            "within_km": 30,
            "profession_code": "sjukskoterska",
            "sort": "distance",
        },
    ),
    Query(
        "term+profession, most free places",
        "portal",
        {"term": "2027-HT", "profession_code": "sjukskoterska", "sort": "-free_places"},
    ),
    Query("region+term", "portal", {"healthcare_region": "Norra", "term": "2028-HT"}),
]


# --------------------------------------------------------------------------- hand-written SQL

_SELECT_PAGE = (
    "SELECT o.id, {key} AS sort_key FROM capacity_offers o"
    " WHERE {where} ORDER BY {order} LIMIT {limit}"
)
_SELECT_ROWS = """
SELECT o.id, o.unit_id, o.provider_id, o.municipality_code, o.county_code,
       o.healthcare_region, o.care_setting, o.rural, o.vulnerable_area, o.latitude,
       o.longitude, o.programme_code, o.profession_code, o.level, o.term, o.start_date,
       o.end_date, o.supervision_model, o.visibility, o.requirements, o.published_at,
       o.places - o.held_places - o.confirmed_places AS free_places, page.sort_key,
       u.name AS unit_name, u.special_requirements AS unit_requirements,
       p.name AS provider_name
FROM ({page}) AS page
JOIN capacity_offers o ON o.id = page.id
JOIN care_units u ON u.id = o.unit_id
LEFT JOIN organisation_projection p ON p.id = o.provider_id
ORDER BY {outer_order}
"""
_PARTNERS = """o.provider_id IN (
    SELECT pp.organisation_id FROM agreement_projection_parties pp
    JOIN agreement_projection_parties up ON up.agreement_id = pp.agreement_id
    JOIN agreement_projection a ON a.agreement_id = pp.agreement_id
    WHERE up.organisation_id = :university AND up.role = 'university'
      AND pp.role IN ('municipality', 'private_provider', 'region')
      AND a.status IN ('active', 'notice_given'))"""
_HAVERSINE = (
    "(sin((o.latitude - :lat) * :half_degree) * sin((o.latitude - :lat) * :half_degree)"
    " + :cos_lat * cos(o.latitude * :degree)"
    " * (sin((o.longitude - :lon) * :half_degree) * sin((o.longitude - :lon) * :half_degree)))"
)


@dataclass(frozen=True)
class _Circle:
    lat: float
    lon: float
    cos_lat: float
    h_max: float
    min_lat: float
    max_lat: float
    min_lon: float | None
    max_lon: float | None


def _circle(lat: float, lon: float, radius_km: float) -> _Circle:
    """A bounding box that holds the circle (the haversine bound decides membership).

    Written the plain way: a degree of latitude is the same everywhere, one of longitude
    shrinks with cos(latitude); near the poles the box gives up on longitude.
    """
    angular = radius_km / 6371.0088
    lat_span = math.degrees(angular)
    cos_lat = math.cos(math.radians(lat))
    lon_span = math.degrees(angular) / cos_lat * 1.01 if cos_lat > 0.05 else None
    return _Circle(
        lat=lat,
        lon=lon,
        cos_lat=cos_lat,
        h_max=math.sin(angular / 2) ** 2,
        min_lat=lat - lat_span,
        max_lat=lat + lat_span,
        min_lon=None if lon_span is None else lon - lon_span,
        max_lon=None if lon_span is None else lon + lon_span,
    )


@dataclass
class HandQuery:
    """SQL text with ``:name`` parameters, and their values."""

    sql: str
    args: dict[str, Any] = field(default_factory=dict)


def hand_written(
    query: Query, *, university: uuid.UUID, after: tuple[Any, str] | None
) -> HandQuery:
    """The query as SQL, written out the way a developer would for this one question."""
    p = query.params
    where = ["o.status = 'published'", "o.places >= o.held_places + o.confirmed_places + 1"]
    args: dict[str, Any] = {}
    for column in (
        "term",
        "profession_code",
        "programme_code",
        "county_code",
        "municipality_code",
        "healthcare_region",
        "care_setting",
        "level",
    ):
        if column in p:
            where.append(f"o.{column} = :{column}")
            args[column] = p[column]
    if "rural" in p:
        where.append("o.rural = :rural")
        args["rural"] = p["rural"]
    if "starts_on_or_after" in p:
        where.append("o.start_date >= :starts")
        args["starts"] = date.fromisoformat(p["starts_on_or_after"])
    if "ends_on_or_before" in p:
        where.append("o.end_date <= :ends")
        args["ends"] = date.fromisoformat(p["ends_on_or_before"])
    if query.role == "university":
        where.append(f"(o.visibility = 'all' OR {_PARTNERS})")
        args["university"] = university
    else:
        where.append("o.visibility = 'all'")
    key, direction = "o.start_date", "ASC"
    if "near_lat" in p:
        c = _circle(p["near_lat"], p["near_lon"], p["within_km"])
        where += [
            "o.latitude BETWEEN :min_lat AND :max_lat",
            "o.longitude BETWEEN :min_lon AND :max_lon",
            f"{_HAVERSINE} <= :h_max",
        ]
        args |= {
            "lat": c.lat,
            "lon": c.lon,
            "cos_lat": c.cos_lat,
            "degree": math.pi / 180,
            "half_degree": math.pi / 360,
            "min_lat": c.min_lat,
            "max_lat": c.max_lat,
            "min_lon": c.min_lon,
            "max_lon": c.max_lon,
            "h_max": c.h_max,
        }
        key = _HAVERSINE
    if p.get("sort") == "-free_places":
        key, direction = "o.places - o.held_places - o.confirmed_places", "DESC"
    if after is not None:
        where.append(f"({key}, o.id) {'<' if direction == 'DESC' else '>'} (:after_key, :after_id)")
        args |= {"after_key": after[0], "after_id": uuid.UUID(after[1])}
    page = _SELECT_PAGE.format(
        key=key,
        where=" AND ".join(where),
        order=f"sort_key {direction}, o.id {direction}",
        limit=PAGE + 1,
    )
    outer = f"page.sort_key {direction}, page.id {direction}"
    return HandQuery(_SELECT_ROWS.format(page=page, outer_order=outer), args)


def for_sqlite(q: HandQuery) -> tuple[str, dict[str, Any]]:
    """sqlite3 takes ``:name`` as is; UUIDs are stored as 32 hex digits, dates as text."""

    def value(v: Any) -> Any:
        if isinstance(v, uuid.UUID):
            return v.hex
        if isinstance(v, date):
            return v.isoformat()
        return v

    return q.sql, {k: value(v) for k, v in q.args.items()}


def for_asyncpg(q: HandQuery) -> tuple[str, list[Any]]:
    """asyncpg takes ``$n``; the same name gets the same number."""
    numbers: dict[str, int] = {}
    sql = q.sql
    for name in sorted(q.args, key=len, reverse=True):  # :lat before :la...
        numbers[name] = len(numbers) + 1
        sql = sql.replace(f":{name}", f"${numbers[name]}")
    ordered = sorted(numbers, key=numbers.__getitem__)
    return sql, [q.args[name] for name in ordered]


# --------------------------------------------------------------------------- databases


@dataclass
class Database:
    """A benchmark database: its SQLAlchemy URL and how to run raw SQL on it."""

    kind: str  # "sqlite" or "postgres"
    url: str
    path: Path | None = None  # SQLite file
    plain_url: str | None = None  # asyncpg DSN


@contextmanager
def bench_database(kind: str, work_dir: Path) -> Iterator[Database]:
    """A fresh empty database, removed afterwards."""
    if kind == "sqlite":
        path = work_dir / "placements.db"
        yield Database(kind, f"sqlite+aiosqlite:///{path}", path=path)
        return
    server = os.environ.get("VFU_BENCH_DATABASE_URL", DEFAULT_PG).replace(
        "postgresql+asyncpg://", "postgresql://"
    )
    name = f"vfu_bench_{uuid.uuid4().hex[:12]}"
    base = server.rpartition("/")[0]
    asyncio.run(_admin(server, f'CREATE DATABASE "{name}"'))
    try:
        yield Database(
            kind,
            f"{base}/{name}".replace("postgresql://", "postgresql+asyncpg://"),
            plain_url=f"{base}/{name}",
        )
    finally:
        asyncio.run(_admin(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def _admin(server: str, statement: str) -> None:
    conn = await asyncpg.connect(server)
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


async def fill(db: Database, args: argparse.Namespace) -> search_data.Generated:
    engine = create_async_engine(db.url)
    try:
        generated = await search_data.generate(
            engine, published=args.offers, others=args.offers // 10, units=args.units
        )
    finally:
        await engine.dispose()
    if db.kind == "postgres":
        await _admin(db.plain_url or "", "ANALYZE")
    elif args.sqlite_analyze:
        with sqlite3.connect(db.path or "") as conn:
            conn.execute("ANALYZE")
    return generated


# --------------------------------------------------------------------------- the service


@contextmanager
def running_service(db: Database, work_dir: Path, children: ChildProcesses) -> Iterator[str]:
    """NATS and the placements service on free ports; yields the service's base URL."""
    nats = NatsServer(free_port(), work_dir / "nats", log_file=work_dir / "nats.log").start()
    port = free_port()
    env = {
        **os.environ,
        "PLACEMENTS_DATABASE_URL": db.url,
        "PLACEMENTS_NATS_URL": nats.url,
        "PLACEMENTS_INTERNAL_PUBLIC_KEY": test_keypair()[1],
        "PLACEMENTS_LOG_LEVEL": "WARNING",
    }
    name = f"placements-{db.kind}"
    try:
        children.start(
            name, [PYTHON, "-m", "placements", "--host", "127.0.0.1", "--port", str(port)], env
        )
        url = f"http://127.0.0.1:{port}"
        try:
            wait_http_ok(url + "/healthz", timeout=60)
        except TimeoutError:
            children.check_alive(name)
            raise
        yield url
    finally:
        children.stop_all()
        nats.stop()


def tokens(ttl_seconds: int) -> dict[str, str]:
    return {
        "portal": mint_internal_token(
            roles={"portal"}, subject="bench:portal", ttl_seconds=ttl_seconds
        ),
        "university": mint_internal_token(
            roles={"university"},
            organisation_id=search_data.BENCH_UNIVERSITY,
            subject="bench:university",
            ttl_seconds=ttl_seconds,
        ),
    }


# --------------------------------------------------------------------------- one request each


@dataclass
class Prepared:
    """A query ready to send both ways."""

    query: Query
    url: str
    headers: dict[str, str]
    sqlite: tuple[str, dict[str, Any]] | None = None
    asyncpg: tuple[str, list[Any]] | None = None


def _query_string(params: dict[str, Any]) -> str:
    return urllib.parse.urlencode(
        {k: str(v).lower() if isinstance(v, bool) else v for k, v in params.items()}
    )


def prepare(db: Database, base_url: str, token: dict[str, str]) -> list[Prepared]:
    """Each query of the mix, checked to return the same offers via HTTP and via SQL."""
    prepared = []
    for query in MIX:
        headers = {INTERNAL_HEADER: token[query.role]}
        params = {**query.params, "limit": PAGE}
        status, first = http_json(
            "GET", f"{base_url}{SEARCH_PATH}?{_query_string(params)}", headers=headers
        )
        if status != 200:
            raise RuntimeError(f"{query.name}: {status} {first}")
        after = None
        if query.page_two:
            cursor = first["next_cursor"]
            last = first["items"][-1]
            after = (date.fromisoformat(last["start_date"]), last["id"])
            params["cursor"] = cursor
            status, body = http_json(
                "GET", f"{base_url}{SEARCH_PATH}?{_query_string(params)}", headers=headers
            )
            if status != 200:
                raise RuntimeError(f"{query.name}: {status} {body}")
        else:
            body = first
        url = f"{base_url}{SEARCH_PATH}?{_query_string(params)}"
        hand = hand_written(query, university=search_data.BENCH_UNIVERSITY, after=after)
        item = Prepared(query, url, headers)
        if db.kind == "sqlite":
            item.sqlite = for_sqlite(hand)
            with sqlite3.connect(db.path or "") as conn:
                rows = conn.execute(*item.sqlite).fetchall()
            sql_ids = [uuid.UUID(hex=row[0]) for row in rows][:PAGE]
        else:
            item.asyncpg = for_asyncpg(hand)
            rows = asyncio.run(_fetch_once(db.plain_url or "", *item.asyncpg))
            sql_ids = [row[0] for row in rows][:PAGE]
        http_ids = [uuid.UUID(i["id"]) for i in body["items"]]
        if http_ids != sql_ids:
            raise RuntimeError(
                f"{query.name}: the service and the SQL disagree "
                f"({len(http_ids)} vs {len(sql_ids)} rows)"
            )
        if len(http_ids) < PAGE:
            print(f"   note: {query.name} finds only {len(http_ids)} offers (a short page)")
        prepared.append(item)
    return prepared


async def _fetch_once(dsn: str, sql: str, args: list[Any]) -> list[Any]:
    conn = await asyncpg.connect(dsn)
    try:
        return list(await conn.fetch(sql, *args))
    finally:
        await conn.close()


# --------------------------------------------------------------------------- load


@dataclass
class Samples:
    """Latencies (ms) of measured requests, per query, and failures."""

    by_query: dict[str, list[float]] = field(default_factory=dict)
    bad: int = 0
    seconds: float = 0.0

    def add(self, name: str, ms: float) -> None:
        self.by_query.setdefault(name, []).append(ms)

    def all(self) -> list[float]:
        return sorted(ms for values in self.by_query.values() for ms in values)


async def load_http(
    prepared: list[Prepared], clients: int, warmup: float, seconds: float, out: Samples
) -> None:
    connector = aiohttp.TCPConnector(limit=clients, limit_per_host=clients)
    async with aiohttp.ClientSession(
        connector=connector, skip_auto_headers=("User-Agent",)
    ) as session:

        async def worker(n: int) -> None:
            i = n
            while True:
                now = time.perf_counter()
                if now >= stop:
                    return
                item = prepared[i % len(prepared)]
                i += 1
                try:
                    async with session.get(item.url, headers=item.headers) as response:
                        await response.read()
                        ok = response.status == 200
                except aiohttp.ClientError:
                    ok = False
                done = time.perf_counter()
                if now >= start and done <= stop:
                    if ok:
                        out.add(item.query.name, (done - now) * 1000)
                    else:
                        out.bad += 1

        start = time.perf_counter() + warmup
        stop = start + seconds
        await asyncio.gather(*(worker(n) for n in range(clients)))
        out.seconds += seconds


async def load_asyncpg(
    dsn: str, prepared: list[Prepared], clients: int, warmup: float, seconds: float, out: Samples
) -> None:
    pool = await asyncpg.create_pool(dsn, min_size=clients, max_size=clients)
    try:

        async def worker(n: int) -> None:
            i = n
            async with pool.acquire() as conn:
                while True:
                    now = time.perf_counter()
                    if now >= stop:
                        return
                    item = prepared[i % len(prepared)]
                    i += 1
                    sql, args = item.asyncpg or ("", [])
                    await conn.fetch(sql, *args)
                    done = time.perf_counter()
                    if now >= start and done <= stop:
                        out.add(item.query.name, (done - now) * 1000)

        start = time.perf_counter() + warmup
        stop = start + seconds
        await asyncio.gather(*(worker(n) for n in range(clients)))
        out.seconds += seconds
    finally:
        await pool.close()


def load_sqlite(
    path: Path, prepared: list[Prepared], clients: int, warmup: float, seconds: float, out: Samples
) -> None:
    lock = threading.Lock()
    start = time.perf_counter() + warmup
    stop = start + seconds

    def worker(n: int) -> None:
        # One connection per client, in WAL mode like the service's readers.
        conn = sqlite3.connect(path, check_same_thread=False)
        conn.execute("PRAGMA journal_mode=WAL")
        i = n
        try:
            while True:
                now = time.perf_counter()
                if now >= stop:
                    return
                item = prepared[i % len(prepared)]
                i += 1
                sql, args = item.sqlite or ("", {})
                conn.execute(sql, args).fetchall()
                done = time.perf_counter()
                if now >= start and done <= stop:
                    with lock:
                        out.add(item.query.name, (done - now) * 1000)
        finally:
            conn.close()

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    out.seconds += seconds


def measure(
    db: Database, prepared: list[Prepared], args: argparse.Namespace
) -> tuple[Samples, Samples]:
    """Interleaved slices of the service and the SQL; returns (service, sql) samples."""
    service, sql = Samples(), Samples()
    slice_s = args.duration / args.rounds
    runs: dict[str, Callable[[], None]] = {
        "service": lambda: asyncio.run(
            load_http(prepared, args.concurrency, args.warmup, slice_s, service)
        ),
        "sql": (
            (
                lambda: load_sqlite(
                    db.path or Path(), prepared, args.concurrency, args.warmup, slice_s, sql
                )
            )
            if db.kind == "sqlite"
            else lambda: asyncio.run(
                load_asyncpg(
                    db.plain_url or "", prepared, args.concurrency, args.warmup, slice_s, sql
                )
            )
        ),
    }
    order = ["service", "sql"]
    for n in range(args.rounds):
        for name in order if n % 2 == 0 else reversed(order):
            print(f"  round {n + 1}/{args.rounds}: {name}", flush=True)
            runs[name]()
    return service, sql


# --------------------------------------------------------------------------- report


def _ms(values: list[float], q: float) -> str:
    return f"{percentile(values, q):.2f}"


def report(
    db: Database, service: Samples, sql: Samples, args: argparse.Namespace
) -> dict[str, float]:
    baseline = "asyncpg" if db.kind == "postgres" else "sqlite3"
    every_service, every_sql = service.all(), sql.all()
    print()
    print(f"{db.kind}: {args.concurrency} clients, {args.duration:g} s measured per target")
    rows = []
    for name, samples, values in (
        (f"hand-written SQL ({baseline})", sql, every_sql),
        ("service (HTTP)", service, every_service),
    ):
        rows.append(
            [
                name,
                str(len(values)),
                f"{len(values) / samples.seconds:.0f}",
                _ms(values, 50),
                _ms(values, 95),
                _ms(values, 99),
                str(samples.bad),
            ]
        )
    print_table(["target", "requests", "req/s", "p50 ms", "p95 ms", "p99 ms", "bad"], rows)
    print()
    per_query = []
    for query in MIX:
        s = sorted(service.by_query.get(query.name, []))
        b = sorted(sql.by_query.get(query.name, []))
        per_query.append(
            [
                query.name,
                _ms(b, 50),
                _ms(b, 95),
                _ms(s, 50),
                _ms(s, 95),
                f"{percentile(s, 95) / percentile(b, 95):.2f}" if b and s else "—",
            ]
        )
    print_table(["query", "SQL p50", "SQL p95", "svc p50", "svc p95", "p95 x SQL"], per_query)
    p95_service, p95_sql = percentile(every_service, 95), percentile(every_sql, 95)
    ratio = p95_service / p95_sql
    print()
    print(
        f"{db.kind}: p95 service {p95_service:.2f} ms / p95 SQL {p95_sql:.2f} ms = {ratio:.2f} "
        f"(target <= {TARGET_RATIO:g}: {'met' if ratio <= TARGET_RATIO else 'MISSED'}); "
        f"p95 service < {TARGET_P95_MS:g} ms: {'met' if p95_service < TARGET_P95_MS else 'MISSED'}"
    )
    return {"p95_service": p95_service, "p95_sql": p95_sql, "ratio": ratio}


# --------------------------------------------------------------------------- main


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--databases", default="sqlite,postgres", help="comma-separated: sqlite, postgres"
    )
    parser.add_argument("--offers", type=int, default=100_000, help="published offers to generate")
    parser.add_argument("--units", type=int, default=6000, help="care units to generate")
    parser.add_argument("--concurrency", type=int, default=8, help="closed-loop clients")
    parser.add_argument("--duration", type=float, default=20.0, help="measured seconds per target")
    parser.add_argument("--rounds", type=int, default=4, help="interleaved slices per target")
    parser.add_argument("--warmup", type=float, default=1.0, help="unmeasured seconds per slice")
    parser.add_argument(
        "--sqlite-analyze", action="store_true", help="ANALYZE the SQLite database before measuring"
    )
    parser.add_argument(
        "--keep", action="store_true", help="keep the work directory (SQLite file, logs)"
    )
    args = parser.parse_args()
    kinds = [k.strip() for k in args.databases.split(",") if k.strip()]
    if not kinds or set(kinds) - {"sqlite", "postgres"}:
        parser.error("--databases takes sqlite and/or postgres")
    args.kinds = kinds
    return args


def run_one(kind: str, args: argparse.Namespace, work_dir: Path) -> dict[str, float]:
    work_dir.mkdir(parents=True, exist_ok=True)
    children = ChildProcesses(work_dir)
    with bench_database(kind, work_dir) as db:
        print(f"\n== {kind}: migrating and generating data ...", flush=True)
        started = time.perf_counter()
        upgrade(ALEMBIC_INI, db.url)
        generated = asyncio.run(fill(db, args))
        print(
            f"   {generated.published:,} published offers, "
            f"{generated.offers - generated.published:,} others, {generated.units:,} units, "
            f"{generated.providers} providers "
            f"in {time.perf_counter() - started:.0f} s"
            + (" (ANALYZEd)" if kind == "postgres" or args.sqlite_analyze else " (no ANALYZE)")
        )
        ttl = int(args.duration * 2 + args.rounds * args.warmup * 2 + 600)
        with running_service(db, work_dir, children) as base_url:
            prepared = prepare(db, base_url, tokens(ttl))
            print(
                f"   {len(prepared)} queries return the same offers via HTTP and SQL; loading",
                flush=True,
            )
            service, sql = measure(db, prepared, args)
        return report(db, service, sql, args)


def main() -> int:
    args = parse_args()
    install_sigterm_as_interrupt()
    print(machine_line())
    work_dir = Path(tempfile.mkdtemp(prefix="vfu-bench-search-"))
    results: dict[str, dict[str, float]] = {}
    try:
        for kind in args.kinds:
            results[kind] = run_one(kind, args, work_dir / kind)
    except KeyboardInterrupt:
        print("\ninterrupted; every process was stopped", file=sys.stderr)
        return 130
    finally:
        if args.keep:
            print(f"kept {work_dir}")
        else:
            shutil.rmtree(work_dir, ignore_errors=True)
    print()
    print(load_line())
    for kind, r in results.items():
        service, sql, ratio = r["p95_service"], r["p95_sql"], r["ratio"]
        print(f"{kind}: p95 {service:.2f} ms (SQL {sql:.2f} ms), ratio {ratio:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
