"""Commit in one service → row in another's projection, against raw JetStream.

    .venv/bin/python bench/event_latency.py [--events 1000] [--rate 50]

Starts NATS, the three services (migrated, SQLite) and the gateway as processes on free
ports in a temporary data directory, then measures, in the same run:

* ``raw JetStream`` (baseline): through the same nats-server, a publisher (its own
  connection, ``js.publish`` waiting for the ack, ``Nats-Msg-Id`` set) and a durable pull
  consumer (its own connection, ``fetch(64, timeout=1)`` in a loop, explicit ack, file
  storage), like the services' relay and consumer. Latency = from just before
  ``publish`` to the consumer holding the message.
* ``commit→projection``: ``POST /api/v1/agreements/organisations`` through the gateway;
  the response arrives after the agreements transaction (row + outbox event) committed,
  so its arrival is taken as the commit time. A thread polls the placements SQLite file
  (read-only connection, every ``--poll-ms``) for new ``organisation_projection`` rows and
  records when each id is first visible. Latency = first seen - response received. This
  is what a reader of the placements database experiences; it includes up to one poll
  interval of granularity and excludes the response's trip back through the gateway, so
  it is slightly high by ~half a poll and low by ~0.3 ms.
  As a cross-check the script also reports the timestamp pair written by the services:
  placements ``organisation_projection.updated_at`` (set inside the consumer transaction,
  before its commit) - agreements ``organisations.created_at`` (set before the agreements
  commit); no polling granularity, but it stops short of the consumer's commit.

Both runs send the same number of events at the same paced rate (default 50/s, so the
figure is latency, not backlog) after the same unmeasured warm-up events.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sqlite3
import sys
import threading
import time
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

import aiohttp
import nats
import uvloop
from _support import (
    fmt_ratio,
    install_sigterm_as_interrupt,
    load_line,
    machine_line,
    organisation_number,
    percentile,
    print_table,
    running_system,
)
from nats.errors import TimeoutError as NatsTimeoutError
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from vfu_common.events.streams import StreamSpec, ensure_stream

TARGET_P99_MS = 100.0
BENCH_STREAM = StreamSpec(name="BENCH_LATENCY", subjects=("bench.latency.>",))


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=1000, help="measured events per run")
    parser.add_argument("--warmup-events", type=int, default=20, help="unmeasured, first")
    parser.add_argument("--rate", type=float, default=50.0, help="events per second (paced)")
    parser.add_argument("--poll-ms", type=float, default=2.0, help="projection poll interval")
    parser.add_argument("--keep", action="store_true", help="keep the data dir and logs")
    return parser.parse_args()


# --------------------------------------------------------------------------- pacing


async def paced(count: int, rate: float) -> Any:
    """Yield 0..count-1, the i-th not before start + i/rate (never bunching to catch up)."""
    loop = asyncio.get_running_loop()
    start = loop.time()
    for i in range(count):
        delay = start + i / rate - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        yield i


# --------------------------------------------------------------------------- baseline


async def raw_jetstream(nats_url: str, total: int, rate: float) -> dict[int, float]:
    """Latency (s) by message index, publish (with ack) → pull-consumer receipt."""
    publisher = await nats.connect(nats_url, name="bench-publisher")
    consumer_nc = await nats.connect(nats_url, name="bench-consumer")
    sent: dict[int, float] = {}
    received: dict[int, float] = {}
    all_in = asyncio.Event()
    try:
        js = publisher.jetstream()
        await ensure_stream(js, BENCH_STREAM)
        await js.purge_stream(BENCH_STREAM.name)
        cjs = consumer_nc.jetstream()
        durable = f"bench-{uuid.uuid4().hex[:8]}"
        await cjs.add_consumer(
            BENCH_STREAM.name,
            ConsumerConfig(
                name=durable,
                durable_name=durable,
                ack_policy=AckPolicy.EXPLICIT,
                deliver_policy=DeliverPolicy.NEW,
                max_ack_pending=1000,
            ),
        )
        psub = await cjs.pull_subscribe_bind(durable=durable, stream=BENCH_STREAM.name)

        async def consume() -> None:
            while True:
                try:
                    msgs = await psub.fetch(64, timeout=1.0)
                except (TimeoutError, NatsTimeoutError):
                    continue
                now = time.perf_counter()
                for msg in msgs:
                    received.setdefault(int(msg.data), now)
                    await msg.ack()
                if len(received) >= total:
                    all_in.set()

        task = asyncio.create_task(consume())
        async for i in paced(total, rate):
            sent[i] = time.perf_counter()
            await js.publish(
                f"bench.latency.{i % 8}",
                str(i).encode(),
                headers={"Nats-Msg-Id": f"{durable}-{i}"},
                timeout=5,
            )
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(all_in.wait(), timeout=30)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await cjs.delete_consumer(BENCH_STREAM.name, durable)
    finally:
        await consumer_nc.close()
        await publisher.close()
    return {i: received[i] - sent[i] for i in sent if i in received}


# --------------------------------------------------------------------------- pipeline


class ProjectionPoller(threading.Thread):
    """Records when each organisation id first shows up in the placements projection."""

    def __init__(self, db_path: Path, interval_s: float) -> None:
        super().__init__(name="projection-poller", daemon=True)
        self.db_path = db_path
        self.interval = interval_s
        self.first_seen: dict[str, float] = {}
        self.polls = 0
        self._halt = threading.Event()

    def run(self) -> None:
        conn = sqlite3.connect(f"file:{self.db_path}?mode=ro", uri=True, isolation_level=None)
        try:
            last = 0
            query = "SELECT rowid, id FROM organisation_projection WHERE rowid > ? ORDER BY rowid"
            while not self._halt.is_set():
                rows = conn.execute(query, (last,)).fetchall()
                now = time.perf_counter()
                self.polls += 1
                for rowid, id_hex in rows:
                    self.first_seen.setdefault(str(id_hex).replace("-", ""), now)
                    last = max(last, rowid)
                time.sleep(self.interval)
        finally:
            conn.close()

    def stop(self) -> None:
        self._halt.set()
        self.join(timeout=5)


async def pipeline(
    gateway_url: str, api_key: str, poller: ProjectionPoller, total: int, rate: float, first: int
) -> tuple[dict[int, float], dict[int, str], list[float]]:
    """Latency (s) by index, response received → projection row visible; ids; POST times."""
    committed: dict[int, float] = {}
    ids: dict[int, str] = {}
    post_latencies: list[float] = []
    url = f"{gateway_url}/api/v1/agreements/organisations"
    headers = {"authorization": f"Bearer {api_key}"}
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=1)) as session:
        async for i in paced(total, rate):
            body = {
                "organisation_number": organisation_number(first + i),
                "kind": "region",
                "name": f"Bench region {first + i}",
                "county_code": "03",  # a region needs its county
            }
            t0 = time.perf_counter()
            async with session.post(url, json=body, headers=headers) as response:
                payload = await response.json(content_type=None)
                status = response.status
            t1 = time.perf_counter()
            if status != 201:
                raise RuntimeError(f"POST {i} answered {status}: {payload}")
            committed[i] = t1
            ids[i] = uuid.UUID(payload["id"]).hex
            post_latencies.append(t1 - t0)
    deadline = time.perf_counter() + 30
    while time.perf_counter() < deadline and any(ids[i] not in poller.first_seen for i in ids):
        await asyncio.sleep(0.05)
    latencies = {
        i: poller.first_seen[ids[i]] - committed[i]
        for i in committed
        if ids[i] in poller.first_seen
    }
    return latencies, ids, post_latencies


def _parse_ts(value: str) -> datetime:
    return datetime.fromisoformat(value)


def timestamp_latencies(data_dir: Path, ids: dict[int, str]) -> dict[int, float]:
    """placements projection updated_at - agreements created_at, in seconds, by index."""
    with contextlib.closing(
        sqlite3.connect(f"file:{data_dir / 'agreements.db'}?mode=ro", uri=True)
    ) as a:
        created = {
            str(k).replace("-", ""): _parse_ts(v)
            for k, v in a.execute("SELECT id, created_at FROM organisations")
        }
    with contextlib.closing(
        sqlite3.connect(f"file:{data_dir / 'placements.db'}?mode=ro", uri=True)
    ) as p:
        projected = {
            str(k).replace("-", ""): _parse_ts(v)
            for k, v in p.execute("SELECT id, updated_at FROM organisation_projection")
        }
    return {
        i: (projected[h] - created[h]).total_seconds()
        for i, h in ids.items()
        if h in created and h in projected
    }


def stage_breakdown(data_dir: Path, ids: dict[int, str], skip: int) -> dict[str, list[float]]:
    """Where the time goes, from the services' own timestamps (seconds, measured events).

    Best effort: reads the outbox (agreements) and inbox (placements) tables, whose
    layout belongs to vfu_common; returns nothing if it has changed.
    """
    wanted = {h for i, h in ids.items() if i >= skip}
    try:
        with contextlib.closing(
            sqlite3.connect(f"file:{data_dir / 'agreements.db'}?mode=ro", uri=True)
        ) as a:
            created = {
                str(k).replace("-", ""): _parse_ts(v)
                for k, v in a.execute("SELECT id, created_at FROM organisations")
            }
            outbox_rows = a.execute(
                "SELECT event_id, payload, created_at, published_at FROM outbox"
            ).fetchall()
        with contextlib.closing(
            sqlite3.connect(f"file:{data_dir / 'placements.db'}?mode=ro", uri=True)
        ) as p:
            received = {
                str(k).replace("-", ""): _parse_ts(v)
                for k, v in p.execute("SELECT event_id, received_at FROM inbox")
            }
            projected = {
                str(k).replace("-", ""): _parse_ts(v)
                for k, v in p.execute("SELECT id, updated_at FROM organisation_projection")
            }
        stages: dict[str, list[float]] = {
            "organisation created_at -> outbox row created_at (agreements txn)": [],
            "outbox row -> placements inbox received_at (relay, NATS, fetch)": [],
            "inbox received_at -> projection updated_at (consumer handler)": [],
            "outbox row -> outbox published_at (relay marks after the ack)": [],
        }
        keys = list(stages)
        for event_id, payload, outbox_created, published in outbox_rows:
            org = str(json.loads(payload)["aggregateid"]).replace("-", "")
            eid = str(event_id).replace("-", "")
            if org not in wanted or eid not in received or org not in projected:
                continue
            oc = _parse_ts(outbox_created)
            stages[keys[0]].append((oc - created[org]).total_seconds())
            stages[keys[1]].append((received[eid] - oc).total_seconds())
            stages[keys[2]].append((projected[org] - received[eid]).total_seconds())
            if published:
                stages[keys[3]].append((_parse_ts(published) - oc).total_seconds())
        return stages
    except (sqlite3.Error, KeyError, ValueError, TypeError):
        return {}


# --------------------------------------------------------------------------- report


def summary(values_s: list[float]) -> dict[str, float]:
    ms = sorted(v * 1000 for v in values_s)
    return {
        "n": len(ms),
        "p50": percentile(ms, 50),
        "p90": percentile(ms, 90),
        "p99": percentile(ms, 99),
        "max": ms[-1] if ms else float("nan"),
        "mean": sum(ms) / len(ms) if ms else float("nan"),
    }


async def measure(launcher: Any, args: argparse.Namespace) -> int:
    cfg = launcher.config
    for service in ("agreements", "placements"):
        if not launcher.database_url(service).startswith("sqlite"):
            raise SystemExit(
                f"{service} does not use SQLite here; this benchmark polls the SQLite file "
                f"(unset {service.upper()}_DATABASE_URL / VFU_POSTGRES_URL)"
            )
    total = args.warmup_events + args.events
    rate = args.rate
    print(
        f"{args.events} measured events (+{args.warmup_events} warm-up) per run at "
        f"{rate:g}/s; projection polled every {args.poll_ms:g} ms"
    )

    print("baseline: raw JetStream publish(ack) → pull consumer ...", flush=True)
    raw = await raw_jetstream(launcher.nats_url(), total, rate)
    raw_measured = [v for i, v in raw.items() if i >= args.warmup_events]
    raw_lost = total - len(raw)

    print("pipeline: POST via gateway → agreements commit → placements projection ...", flush=True)
    poller = ProjectionPoller(cfg.data_dir / "placements.db", args.poll_ms / 1000)
    poller.start()
    try:
        pipe, ids, post = await pipeline(
            cfg.gateway_url, launcher.admin_key(), poller, total, rate, first=1
        )
    finally:
        poller.stop()
    pipe_measured = [v for i, v in pipe.items() if i >= args.warmup_events]
    pipe_lost = total - len(pipe)
    stamps = timestamp_latencies(cfg.data_dir, ids)
    stamp_measured = [v for i, v in stamps.items() if i >= args.warmup_events]
    post_measured = post[args.warmup_events :]

    r, p, s, h = (
        summary(raw_measured),
        summary(pipe_measured),
        summary(stamp_measured),
        summary(post_measured),
    )
    print(load_line())
    print()
    print("Latencies in ms over the measured events; ratios are against raw JetStream.")
    print()
    rows = []
    for name, st in [
        ("raw JetStream publish→consume (baseline)", r),
        ("commit→projection visible (polled)", p),
        ("created_at→updated_at (timestamps)", s),
        ("POST via gateway (for reference)", h),
    ]:
        rows.append(
            [
                name,
                str(st["n"]),
                f"{st['p50']:.2f}",
                f"{st['p90']:.2f}",
                f"{st['p99']:.2f}",
                f"{st['max']:.2f}",
                fmt_ratio(st["p50"] / r["p50"]),
                fmt_ratio(st["p99"] / r["p99"]),
            ]
        )
    print_table(["measure", "n", "p50", "p90", "p99", "max", "p50 x raw", "p99 x raw"], rows)
    print()
    stages = stage_breakdown(cfg.data_dir, ids, args.warmup_events)
    if stages:
        print("Where the time goes (services' own timestamps; stages overlap, no ratios):")
        print()
        stage_rows = []
        for name, values in stages.items():
            st = summary(values)
            stage_rows.append(
                [name, str(st["n"]), f"{st['p50']:.2f}", f"{st['p90']:.2f}", f"{st['p99']:.2f}"]
            )
        print_table(["stage", "n", "p50", "p90", "p99"], stage_rows)
    print()
    print(
        f"projection polls: {poller.polls}; events never seen: raw {raw_lost}, pipeline {pipe_lost}"
    )
    print(
        f"commit→projection / raw JetStream: p50 {fmt_ratio(p['p50'] / r['p50'])}, "
        f"p99 {fmt_ratio(p['p99'] / r['p99'])}"
    )
    print(f"p99 commit→projection: {p['p99']:.1f} ms (target < {TARGET_P99_MS:g} ms)")
    return 1 if pipe_lost or raw_lost else 0


def main() -> int:
    args = parse_args()
    install_sigterm_as_interrupt()
    print(machine_line())
    try:
        with running_system(keep=args.keep) as launcher:
            return uvloop.run(measure(launcher, args))
    except KeyboardInterrupt:
        print("\ninterrupted; every process was stopped", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
