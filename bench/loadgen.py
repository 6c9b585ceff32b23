"""Closed-loop HTTP load generator, run as its own process by gateway_overhead.py.

``python bench/loadgen.py --spec SPEC.json --out RESULT.json``

The spec names the targets (``[{"name", "url", "headers"}]``), the concurrency N, the
number of rounds, and per round the warm-up and measured seconds. Each target gets its own
aiohttp session whose pool holds exactly N keep-alive connections. In every round each
target is loaded in turn (the order rotates from round to round): N workers send a GET,
read the whole body and send the next, first for the warm-up (not counted), then for the
measured slice. Only requests that start and finish inside the measured slice count.

Interleaving short slices instead of one long run per target means every target sees the
same machine: on a shared 2-core box a burst of other work lands on all of them alike
rather than on whichever ran at that moment. The result keeps the per-round figures so
the caller can show how much the ratios moved from round to round.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import time
from pathlib import Path
from typing import Any

import aiohttp
import uvloop


def _percentile(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return float("nan")
    rank = max(1, min(len(sorted_values), round(q / 100 * len(sorted_values) + 0.5)))
    return sorted_values[rank - 1]


class Target:
    def __init__(self, name: str, url: str, headers: dict[str, str], connections: int) -> None:
        self.name = name
        self.url = url
        self.headers = headers
        self.connections = connections
        self.session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=connections, limit_per_host=connections),
            timeout=aiohttp.ClientTimeout(total=30),
            skip_auto_headers=("User-Agent",),
        )
        self.latencies: list[float] = []
        self.statuses: dict[int, int] = {}
        self.errors: dict[str, int] = {}
        self.rounds: list[dict[str, float]] = []

    async def slice(self, warmup: float, duration: float) -> None:
        """Warm up, then measure for ``duration`` seconds; record one round."""
        loop = asyncio.get_running_loop()

        async def one() -> None:
            with contextlib.suppress(aiohttp.ClientError, TimeoutError):
                async with self.session.get(self.url, headers=self.headers) as response:
                    await response.read()

        # (Re)open every pooled connection before the clock starts: idle ones may have
        # been closed by the server's keep-alive timeout while other targets ran.
        await asyncio.gather(*(one() for _ in range(self.connections)))
        measure_from = loop.time() + warmup
        stop_at = measure_from + duration
        clock = time.perf_counter
        latencies: list[float] = []

        async def worker() -> None:
            while True:
                now = loop.time()
                if now >= stop_at:
                    return
                counted = now >= measure_from
                t0 = clock()
                try:
                    async with self.session.get(self.url, headers=self.headers) as response:
                        await response.read()
                        status = response.status
                except (aiohttp.ClientError, TimeoutError) as exc:
                    if counted:
                        name = type(exc).__name__
                        self.errors[name] = self.errors.get(name, 0) + 1
                    continue
                elapsed = clock() - t0
                if counted and loop.time() <= stop_at:
                    self.statuses[status] = self.statuses.get(status, 0) + 1
                    if status == 200:
                        latencies.append(elapsed)

        await asyncio.gather(*(worker() for _ in range(self.connections)))
        self.latencies.extend(latencies)
        latencies.sort()
        self.rounds.append(
            {
                "requests": len(latencies),
                "rps": len(latencies) / duration,
                "p50_ms": _percentile(latencies, 50) * 1000,
            }
        )

    def result(self, measured_seconds: float) -> dict[str, Any]:
        self.latencies.sort()
        lat = self.latencies
        return {
            "name": self.name,
            "url": self.url,
            "connections": self.connections,
            "measured_s": measured_seconds,
            "requests": len(lat),
            "rps": len(lat) / measured_seconds,
            "p50_ms": _percentile(lat, 50) * 1000,
            "p90_ms": _percentile(lat, 90) * 1000,
            "p99_ms": _percentile(lat, 99) * 1000,
            "max_ms": (lat[-1] * 1000) if lat else float("nan"),
            "statuses": {str(k): v for k, v in sorted(self.statuses.items())},
            "errors": self.errors,
            "rounds": self.rounds,
        }


async def run(spec: dict[str, Any], progress: bool) -> list[dict[str, Any]]:
    conns = int(spec["connections"])
    rounds = int(spec["rounds"])
    warmup = float(spec["warmup_s"])
    slice_s = float(spec["slice_s"])
    targets = [Target(t["name"], t["url"], t["headers"], conns) for t in spec["targets"]]
    try:
        for r in range(rounds):
            shift = r % len(targets)
            for target in targets[shift:] + targets[:shift]:
                await target.slice(warmup, slice_s)
            if progress:
                parts = "  ".join(f"{t.name} {t.rounds[-1]['rps']:.0f}" for t in targets)
                print(f"  c={conns} round {r + 1}/{rounds} req/s: {parts}", flush=True)
        return [t.result(rounds * slice_s) for t in targets]
    finally:
        for target in targets:
            await target.session.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--spec", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--progress", action="store_true", help="a line per round on stdout")
    args = parser.parse_args()
    spec = json.loads(args.spec.read_text())
    results = uvloop.run(run(spec, args.progress))
    args.out.write_text(json.dumps(results))


if __name__ == "__main__":
    main()
