"""Booking throughput through the gateway against a bare conditional UPDATE, same database.

    .venv/bin/python bench/booking_throughput.py [--databases sqlite,postgres]
        [--duration 6] [--rounds 3] [--clients 32] [--profile 300] [--keep]

Per database (SQLite files, then PostgreSQL: ``VFU_BENCH_DATABASE_URL`` or the local
``postgresql://postgres@127.0.0.1:5432/test`` server, in a fresh database that is dropped
afterwards) it starts NATS, the three services and the gateway with the launcher the
end-to-end tests use (the placements service on that database), projects an agreement
between a development university and Region Uppsala into the placements service's own
projection (no agreements-service traffic), inserts a unit and offers with Core inserts,
and loads with ``--clients`` closed-loop clients (aiohttp, keep-alive):

* ``baseline``  a minimal FastAPI endpoint in its own process (uvicorn, uvloop,
                httptools, the service's ``Database``) that runs only the conditional
                ``UPDATE capacity_offers SET held_places = held_places + 1 ... WHERE
                held_places + confirmed_places + 1 <= places`` in a write transaction: the
                floor of any booking on this database and stack. **Every ratio is against
                it**, in the same mode;
* ``direct``    ``POST /api/v1/placements/bookings`` on the placements service with an
                internal token minted here (what the service costs, without the gateway);
* ``gateway``   the same request through the gateway with the university's OAuth2 access
                token: authentication, token minting, forwarding, the service, its audit
                record.

Each in two modes: ``distinct`` (every client books on its own offer) and ``hot`` (all
clients book on one offer, so every booking contends for the same row). Offers have
places enough never to run out: the measure is the accepted-booking path. Every booking
carries its own ``Idempotency-Key``, as clients are told to send. Targets are loaded in
turn in ``--rounds`` interleaved slices (one second unmeasured warm-up each), so a burst of
other work on a shared machine lands on all of them alike.

``--profile N`` first books N times in-process (the ASGI app over httpx, no network) and
prints timing spans: each kind of SQL statement per booking, and the Python around them;
``--profile 0`` skips it. ``--no-idempotency-key`` sends bookings without the header (what
the key costs: a lookup, an insert and an update in the booking's transaction).

Internal mode: ``--serve-baseline URL --port P`` runs the baseline endpoint (used by the
script itself).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import shutil
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import uvloop
from _support import (
    BENCH_DIR,
    BENCH_GATEWAY_ENV,
    PYTHON,
    ChildProcesses,
    install_sigterm_as_interrupt,
    launch_config,
    load_line,
    machine_line,
    percentile,
    print_table,
)
from vfu_devrun.launcher import SERVICES, Launcher
from vfu_testing.booking_data import BOOKINGS_PATH, profile_bookings, seed_bookable_offers

DEFAULT_PG_SERVER = "postgresql://postgres@127.0.0.1:5432/test"
# gateway/baseline per mode: distinct offers are the renovation's target; on one hot
# offer every booking queues for the same row, and the earlier target stands.
TARGET_RATIO = {"distinct": 0.45, "hot": 0.25}
MODES = ("distinct", "hot")
KINDS = ("baseline", "direct", "gateway")


# --------------------------------------------------------------------------- baseline server


def serve_baseline(database_url: str, port: int) -> None:
    """The minimal conditional-UPDATE endpoint (run in its own process).

    The statement is the booking's own conditional UPDATE, as a Core statement through the
    service's ``Database`` (one writer connection and BEGIN IMMEDIATE on SQLite, the same
    pool on PostgreSQL): the floor a booking on this database and stack cannot go below.
    """
    import uvicorn
    from fastapi import FastAPI, Response
    from sqlalchemy import Uuid, bindparam, text
    from vfu_common.db import Database

    db = Database(database_url)
    app = FastAPI()
    # The booking's own conditional UPDATE, written out against the migrated table.
    statement = text(
        "UPDATE capacity_offers SET held_places = held_places + 1, version = version + 1"
        " WHERE id = :offer_id AND status = 'published'"
        " AND held_places + confirmed_places + 1 <= places"
    ).bindparams(bindparam("offer_id", type_=Uuid))

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/take/{offer_id}")
    async def take(offer_id: uuid.UUID) -> Response:
        async with db.write() as session:
            result = await session.execute(statement, {"offer_id": offer_id})
        taken = result.rowcount == 1  # type: ignore[attr-defined]
        return Response(b'{"taken":true}' if taken else b"{}", 200 if taken else 409)

    uvicorn.run(
        app,
        host="127.0.0.1",
        port=port,
        log_config=None,
        access_log=False,
        loop="uvloop",
        http="httptools",
    )


# --------------------------------------------------------------------------- the system


@contextlib.contextmanager
def system_on(placements_url: str | None, *, keep: bool) -> Iterator[Launcher]:
    """The launcher's whole system, the placements service on ``placements_url``.

    Like ``_support.running_system`` (whose launch configuration it reuses), plus the
    placements database choice.
    """
    data_dir = Path(tempfile.mkdtemp(prefix="vfu-bench-booking-"))
    for name, value in BENCH_GATEWAY_ENV.items():
        os.environ.setdefault(name, value)
    config = launch_config(data_dir)
    if placements_url:
        config.database_urls["placements"] = placements_url
    launcher = Launcher(config, quiet=True)
    started = time.perf_counter()
    try:
        print(f"starting NATS, {', '.join(SERVICES)} and the gateway in {data_dir} ...")
        try:
            launcher.start()
        except Exception:
            for name in [*SERVICES, "gateway"]:
                tail = launcher.tail(name)
                if tail:
                    print(f"--- {name}.log ---\n{tail}")
            raise
        print(f"system ready in {time.perf_counter() - started:.1f}s")
        yield launcher
    finally:
        launcher.stop()
        if keep:
            print(f"kept data directory {data_dir}")
        else:
            shutil.rmtree(data_dir, ignore_errors=True)


def parties(launcher: Launcher) -> tuple[str, uuid.UUID, uuid.UUID]:
    """(university grant name, university id, Region Uppsala's id) of the dev grants."""
    grants = launcher.grants()
    university = next(g for g in grants.values() if "university" in g["roles"])
    region = grants.get("Region Uppsala") or next(
        g for g in grants.values() if "provider" in g["roles"]
    )
    return (
        str(university["name"]),
        uuid.UUID(str(university["organisation_id"])),
        uuid.UUID(str(region["organisation_id"])),
    )


# --------------------------------------------------------------------------- load


class Target:
    """One kind and mode: where its clients send what."""

    def __init__(
        self,
        kind: str,
        mode: str,
        urls: list[str],
        headers: Any,
        bodies: Any,
        *,
        idempotency_key: bool = False,
    ) -> None:
        self.kind, self.mode = kind, mode
        self.idempotency_key = idempotency_key
        self.name = f"{kind}-{mode}"
        self.urls = urls  # one per client (the same URL for all on the booking endpoint)
        self.headers = headers  # () -> dict, called per slice (access tokens renew)
        self.bodies = bodies  # client index -> JSON body or None
        self.ok_status = 200 if kind == "baseline" else 201
        self.latencies: list[float] = []
        self.statuses: dict[int, int] = {}
        self.errors = 0
        self.rounds: list[float] = []
        # CPU seconds per process over this target's slices (warm-ups included), and the
        # accepted requests they served: what one booking costs each process.
        self.cpu: dict[str, float] = {}
        self.cpu_requests = 0


def cpu_seconds(pids: dict[str, list[int]]) -> dict[str, float]:
    """User plus system CPU seconds so far of each named group of processes (Linux)."""
    tick = os.sysconf("SC_CLK_TCK")
    spent: dict[str, float] = {}
    for name, group in pids.items():
        total = 0
        for pid in group:
            with contextlib.suppress(OSError):
                fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
                total += int(fields[11]) + int(fields[12])  # utime, stime
        spent[name] = total / tick
    return spent


def postgres_backends() -> list[int]:
    """The local PostgreSQL server's processes (its CPU share of a booking)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError):
            if stat.read_text().split(" (", 1)[1].startswith("postgres)"):
                found.append(int(stat.parent.name))
    return found


async def load_slice(
    target: Target,
    session: Any,
    warmup: float,
    duration: float,
    pids: Callable[[], dict[str, list[int]]],
) -> None:
    """Closed-loop clients for ``warmup`` + ``duration`` seconds; record the measured part."""
    import aiohttp

    loop = asyncio.get_running_loop()
    headers = target.headers()
    measure_from = loop.time() + warmup
    stop_at = measure_from + duration
    latencies: list[float] = []
    clock = time.perf_counter
    accepted = 0
    watched = pids()
    cpu_before = cpu_seconds(watched)

    async def client(index: int) -> None:
        url = target.urls[index % len(target.urls)]
        body = target.bodies(index)
        while True:
            now = loop.time()
            if now >= stop_at:
                return
            counted = now >= measure_from
            request_headers = dict(headers)
            if target.idempotency_key:
                request_headers["Idempotency-Key"] = str(uuid.uuid4())
            t0 = clock()
            try:
                async with session.post(url, json=body, headers=request_headers) as response:
                    await response.read()
                    status = response.status
            except (aiohttp.ClientError, TimeoutError):
                if counted:
                    target.errors += 1
                continue
            elapsed = clock() - t0
            if status == target.ok_status:
                nonlocal accepted
                accepted += 1
            if counted and loop.time() <= stop_at:
                target.statuses[status] = target.statuses.get(status, 0) + 1
                if status == target.ok_status:
                    latencies.append(elapsed)

    await asyncio.gather(*(client(i) for i in range(len(target.urls))))
    for name, seconds in cpu_seconds(watched).items():
        target.cpu[name] = target.cpu.get(name, 0.0) + seconds - cpu_before[name]
    target.cpu_requests += accepted
    target.latencies += latencies
    target.rounds.append(len(latencies) / duration)


async def run_load(
    targets: list[Target],
    rounds: int,
    warmup: float,
    slice_s: float,
    pids: Callable[[], dict[str, list[int]]],
) -> None:
    import aiohttp

    clients = max(len(t.urls) for t in targets)
    connector = aiohttp.TCPConnector(limit=clients * len(targets), limit_per_host=clients)
    async with aiohttp.ClientSession(
        connector=connector, timeout=aiohttp.ClientTimeout(total=60)
    ) as session:
        for r in range(rounds):
            shift = r % len(targets)
            for target in targets[shift:] + targets[:shift]:
                await load_slice(target, session, warmup, slice_s, pids)
            parts = "  ".join(f"{t.name} {t.rounds[-1]:.0f}" for t in targets)
            print(f"  round {r + 1}/{rounds} bookings/s: {parts}", flush=True)


# --------------------------------------------------------------------------- profile


# --------------------------------------------------------------------------- one database


def bench_database(
    label: str, placements_url: str | None, args: argparse.Namespace
) -> dict[str, Target]:
    """Start the system on one database, load every target, return them with results."""
    from vfu_common.internal_token import INTERNAL_HEADER, InternalTokenSigner
    from vfu_common.principal import Principal

    with system_on(placements_url, keep=args.keep) as launcher:
        cfg = launcher.config
        database_url = launcher.database_url("placements")
        university_name, university_id, provider_id = parties(launcher)
        layout = {
            kind: {mode: args.clients if mode == "distinct" else 1 for mode in MODES}
            for kind in KINDS
        }
        offers = asyncio.run(seed_bookable_offers(database_url, university_id, provider_id, layout))
        key = "with" if args.idempotency_key else "without"
        print(
            f"[{label}] university {university_name}; {args.clients} clients per target; "
            f"bookings {key} Idempotency-Key"
        )
        if args.profile:
            print(
                asyncio.run(
                    profile_bookings(
                        database_url, university_id, offers["direct"]["hot"][0], args.profile
                    )
                )
            )
        children = ChildProcesses(cfg.data_dir / "logs")
        try:
            baseline_url = children.serve(
                "baseline",
                [
                    PYTHON,
                    str(BENCH_DIR / "booking_throughput.py"),
                    "--serve-baseline",
                    database_url,
                ],
            )
            signer = InternalTokenSigner(
                (cfg.data_dir / "keys" / "internal_private.pem").read_text(),
                ttl_seconds=3600,
            )
            internal = signer.mint(
                Principal(
                    subject="bench-direct",
                    organisation_id=university_id,
                    roles=frozenset({"university"}),
                )
            )
            placements = f"http://{cfg.host}:{cfg.service_ports['placements']}"
            targets = build_targets(
                args.clients,
                offers,
                baseline_url=baseline_url,
                direct_url=placements + BOOKINGS_PATH,
                gateway_url=cfg.gateway_url + BOOKINGS_PATH,
                direct_headers={INTERNAL_HEADER: internal},
                gateway_headers=lambda: {
                    "authorization": f"Bearer {launcher.key_named(university_name)}"
                },
                idempotency_key=args.idempotency_key,
            )
            slice_s = args.duration / args.rounds
            print(
                f"[{label}] {args.rounds} interleaved rounds; per target and round "
                f"1 s warm-up + {slice_s:g} s measured"
            )

            def pids() -> dict[str, list[int]]:
                watched = {
                    "clients": [os.getpid()],
                    "gateway": [launcher.procs["gateway"].pid],
                    "placements": [launcher.procs["placements"].pid],
                    "baseline": [children.procs["baseline"].pid],
                }
                if placements_url:
                    watched["postgres"] = postgres_backends()
                return watched

            uvloop.run(run_load(list(targets.values()), args.rounds, 1.0, slice_s, pids))
            check_counts(database_url, offers, targets)
        finally:
            children.stop_all()
    return targets


def build_targets(
    clients: int,
    offers: dict[str, dict[str, list[uuid.UUID]]],
    *,
    baseline_url: str,
    direct_url: str,
    gateway_url: str,
    direct_headers: dict[str, str],
    gateway_headers: Any,
    idempotency_key: bool,
) -> dict[str, Target]:
    targets: dict[str, Target] = {}
    for mode in MODES:
        base_offers = offers["baseline"][mode]
        targets[f"baseline-{mode}"] = Target(
            "baseline",
            mode,
            [f"{baseline_url}/take/{base_offers[i % len(base_offers)]}" for i in range(clients)],
            dict,
            lambda _i: None,
        )
        for kind, url, headers in (
            ("direct", direct_url, lambda: direct_headers),
            ("gateway", gateway_url, gateway_headers),
        ):
            ids = offers[kind][mode]
            targets[f"{kind}-{mode}"] = Target(
                kind,
                mode,
                [url] * clients,
                headers,
                lambda i, ids=ids: {
                    "offer_id": str(ids[i % len(ids)]),
                    "places": 1,
                    "course_code": "BENCH",
                    "course_instance": f"C{i}",
                },
                idempotency_key=idempotency_key,
            )
    return targets


def check_counts(
    database_url: str, offers: dict[str, dict[str, list[uuid.UUID]]], targets: dict[str, Target]
) -> None:
    """Every accepted booking took exactly one place (warm-ups included): nothing lost."""

    async def held() -> dict[uuid.UUID, int]:
        from sqlalchemy import Integer, Uuid, text
        from vfu_common.db import Database

        db = Database(database_url)
        try:
            async with db.read() as session:
                rows = await session.execute(
                    text("SELECT id, held_places FROM capacity_offers").columns(
                        id=Uuid, held_places=Integer
                    )
                )
                return {offer_id: int(n) for offer_id, n in rows}
        finally:
            await db.dispose()

    counts = asyncio.run(held())
    for kind in ("direct", "gateway"):
        taken = sum(counts[o] for mode in MODES for o in offers[kind][mode])
        if taken < sum(targets[f"{kind}-{mode}"].statuses.get(201, 0) for mode in MODES):
            raise RuntimeError(f"{kind}: fewer places held than bookings counted")


# --------------------------------------------------------------------------- report


def report(label: str, targets: dict[str, Target]) -> list[str]:
    rows = []
    for target in targets.values():
        base = targets[f"baseline-{target.mode}"]
        lat = sorted(target.latencies)
        measured = sum(target.rounds) / len(target.rounds) if target.rounds else 0.0
        base_rate = sum(base.rounds) / len(base.rounds) if base.rounds else 0.0
        ratios = sorted(r / b for r, b in zip(target.rounds, base.rounds, strict=True) if b)
        bad = sum(v for k, v in target.statuses.items() if k != target.ok_status) + target.errors
        rows.append(
            [
                target.name,
                f"{measured:.0f}",
                f"{measured / base_rate:.2f}" if base_rate else "-",
                f"{ratios[0]:.2f}..{ratios[len(ratios) // 2]:.2f}..{ratios[-1]:.2f}"
                if ratios and target.kind != "baseline"
                else "",
                f"{percentile(lat, 50) * 1000:.1f}",
                f"{percentile(lat, 99) * 1000:.1f}",
                str(len(lat)),
                str(bad),
            ]
        )
    print()
    print(f"== {label}: bookings/s with {len(next(iter(targets.values())).urls)} clients ==")
    print_table(
        ["target", "per s", "x baseline", "rounds", "p50 ms", "p99 ms", "accepted", "bad"], rows
    )
    print_cpu_table(targets)
    lines = []
    for mode in MODES:
        gateway = targets[f"gateway-{mode}"]
        base = targets[f"baseline-{mode}"]
        ratio = (sum(gateway.rounds) / sum(base.rounds)) if sum(base.rounds) else float("nan")
        target = TARGET_RATIO[mode]
        verdict = "ok" if ratio >= target else "BELOW TARGET"
        lines.append(f"{label} {mode}: gateway/baseline {ratio:.2f} (target >= {target}) {verdict}")
    return lines


def print_cpu_table(targets: dict[str, Target]) -> None:
    """CPU milliseconds per accepted request, per process: where a booking's time goes.

    On two cores the processes compete for the same CPUs, so a target's rate is bounded
    by the sum of its column as much as by its busiest process.
    """
    names = sorted({name for t in targets.values() for name in t.cpu})
    rows = []
    for target in targets.values():
        if not target.cpu_requests:
            continue
        per = {n: target.cpu.get(n, 0.0) * 1000 / target.cpu_requests for n in names}
        rows.append([target.name, *(f"{per[n]:.2f}" for n in names), f"{sum(per.values()):.2f}"])
    print()
    print("CPU ms per accepted request (warm-ups included), by process:")
    print_table(["target", *names, "sum"], rows)


# --------------------------------------------------------------------------- main


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--databases", default="sqlite,postgres")
    parser.add_argument("--duration", type=float, default=6.0, help="measured s per target")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument(
        "--profile", type=int, default=300, help="in-process bookings to profile (0: none)"
    )
    parser.add_argument(
        "--no-idempotency-key",
        dest="idempotency_key",
        action="store_false",
        help="book without Idempotency-Key (shows what the key costs)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the data dirs and logs")
    parser.add_argument("--serve-baseline", metavar="DATABASE_URL", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.rounds < 1 or args.duration <= 0 or args.clients < 1:
        parser.error("--rounds and --clients must be >= 1 and --duration > 0")
    return args


def main() -> int:
    args = parse_args()
    if args.serve_baseline:
        serve_baseline(args.serve_baseline, args.port)
        return 0
    install_sigterm_as_interrupt()
    print(machine_line())
    verdicts: list[str] = []
    try:
        for label in [d.strip() for d in args.databases.split(",") if d.strip()]:
            if label == "sqlite":
                verdicts += report(label, bench_database(label, None, args))
            elif label == "postgres":
                verdicts += report(label, bench_postgres(args))
            else:
                raise SystemExit(f"unknown database {label!r} (sqlite, postgres)")
    except KeyboardInterrupt:
        print("\ninterrupted; every process was stopped", file=sys.stderr)
        return 130
    print()
    print(load_line())
    for line in verdicts:
        print(line)
    return 0


def bench_postgres(args: argparse.Namespace) -> dict[str, Target]:
    """The PostgreSQL run, in a database created for it and dropped after."""
    from vfu_testing.databases import create_postgres_database, drop_postgres_database

    server = os.environ.get("VFU_BENCH_DATABASE_URL", DEFAULT_PG_SERVER)
    url = asyncio.run(create_postgres_database(server))
    try:
        return bench_database("postgres", url, args)
    finally:
        asyncio.run(drop_postgres_database(server, url))


if __name__ == "__main__":
    sys.exit(main())
