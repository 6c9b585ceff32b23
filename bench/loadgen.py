"""Closed-loop HTTP load generator, run as its own process by gateway_overhead.py.

``python bench/loadgen.py --url URL --connections N --duration S --warmup W --out FILE
[--header 'name: value' ...]``

N asyncio workers share one aiohttp session whose pool holds exactly N keep-alive
connections; each worker sends a GET, reads the whole body, and sends the next. Only
requests that *start and finish* inside the measurement window (after the warm-up) are
counted, so the warm-up's cold connections and the tail's stragglers do not skew the rate.
Writes a JSON summary to ``--out``: requests/s, latency percentiles, errors.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from pathlib import Path

import aiohttp
import uvloop


def _percentile(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return float("nan")
    rank = max(1, min(len(sorted_values), round(q / 100 * len(sorted_values) + 0.5)))
    return sorted_values[rank - 1]


async def run(
    url: str, headers: dict[str, str], connections: int, duration: float, warmup: float
) -> dict[str, object]:
    connector = aiohttp.TCPConnector(limit=connections, limit_per_host=connections)
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    errors: dict[str, int] = {}
    async with aiohttp.ClientSession(
        connector=connector,
        timeout=aiohttp.ClientTimeout(total=30),
        skip_auto_headers=("User-Agent",),
    ) as session:
        # Open every connection before the clock starts.
        async def one() -> None:
            async with session.get(url, headers=headers) as response:
                await response.read()

        await asyncio.gather(*(one() for _ in range(connections)))
        loop = asyncio.get_running_loop()
        start = loop.time()
        measure_from = start + warmup
        stop_at = measure_from + duration
        clock = time.perf_counter

        async def worker() -> None:
            while True:
                now = loop.time()
                if now >= stop_at:
                    return
                counted = now >= measure_from
                t0 = clock()
                try:
                    async with session.get(url, headers=headers) as response:
                        await response.read()
                        status = response.status
                except (aiohttp.ClientError, TimeoutError) as exc:
                    if counted:
                        errors[type(exc).__name__] = errors.get(type(exc).__name__, 0) + 1
                    continue
                elapsed = clock() - t0
                if counted and loop.time() <= stop_at:
                    statuses[status] = statuses.get(status, 0) + 1
                    if status == 200:
                        latencies.append(elapsed)

        await asyncio.gather(*(worker() for _ in range(connections)))
    latencies.sort()
    ok = len(latencies)
    return {
        "url": url,
        "connections": connections,
        "duration_s": duration,
        "warmup_s": warmup,
        "requests": ok,
        "rps": ok / duration,
        "p50_ms": _percentile(latencies, 50) * 1000,
        "p90_ms": _percentile(latencies, 90) * 1000,
        "p99_ms": _percentile(latencies, 99) * 1000,
        "max_ms": (latencies[-1] * 1000) if latencies else float("nan"),
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
        "errors": errors,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", required=True)
    parser.add_argument("--header", action="append", default=[], help="'name: value'")
    parser.add_argument("--connections", type=int, default=1)
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    headers = dict(h.split(": ", 1) for h in args.header)
    result = uvloop.run(run(args.url, headers, args.connections, args.duration, args.warmup))
    args.out.write_text(json.dumps(result))


if __name__ == "__main__":
    main()
