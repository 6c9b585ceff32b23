"""What the gateway costs: the same GET served directly and through the gateway.

    .venv/bin/python bench/gateway_overhead.py [--duration 10] [--connections 1,32]

Starts NATS, the three services (migrated, SQLite) and the gateway as processes on free
ports in a temporary data directory (the launcher the end-to-end tests use), registers
one organisation through the gateway, waits until the placements projection holds it,
then loads ``GET /api/v1/placements/organisations/{id}`` (a 200 with one database read):

* ``direct``  the placements service itself, with an internal token minted here;
              measured before and after the other targets at each concurrency, and the
              mean of the two is the baseline every ratio is taken against;
* ``gateway`` the real gateway (aiohttp transport, API-key auth, a token minted per
              request, header hygiene, request-id middleware);
* ``fwd-*``   minimal forwarders in bench/forwarders.py that differ only by transport
              (httpx default, httpx-aiohttp, bare aiohttp) and do nothing else.

Each measurement is a separate load-generator process (bench/loadgen.py, aiohttp,
keep-alive pool = concurrency) with a warm-up. Every process is stopped on exit.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from _support import (
    BENCH_DIR,
    PYTHON,
    ChildProcesses,
    fmt_ratio,
    free_port,
    http_json,
    install_sigterm_as_interrupt,
    machine_line,
    organisation_number,
    print_table,
    running_system,
    wait_http_ok,
)
from vfu_common.identity import INTERNAL_HEADER, InternalTokenSigner, Principal

DEFAULT_EXTRA_SITE = Path.home() / ".cache" / "vfu-bench" / "site"
TRANSPORTS = ("httpx", "httpx-aiohttp", "aiohttp")
TARGET_GATEWAY_RATIO = 0.5
TARGET_ADDED_MS = 2.0


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=float, default=10.0, help="measured seconds per run")
    parser.add_argument("--warmup", type=float, default=2.0, help="unmeasured seconds per run")
    parser.add_argument("--connections", default="1,32", help="comma-separated concurrencies")
    parser.add_argument(
        "--no-forwarders", action="store_true", help="only direct and gateway (quicker)"
    )
    parser.add_argument(
        "--extra-site",
        type=Path,
        default=Path(os.environ.get("VFU_BENCH_SITE", DEFAULT_EXTRA_SITE)),
        help="directory put on the forwarders' PYTHONPATH (where httpx-aiohttp may be "
        "installed with pip install --no-deps --target DIR httpx-aiohttp)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the data dir and logs")
    return parser.parse_args()


def forwarder_env(extra_site: Path) -> dict[str, str]:
    env = dict(os.environ)
    if extra_site.is_dir():
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in (str(extra_site), env.get("PYTHONPATH", "")) if p
        )
    return env


def importable(module: str, env: dict[str, str]) -> bool:
    result = subprocess.run(
        [PYTHON, "-c", f"import {module}"], env=env, capture_output=True, check=False
    )
    return result.returncode == 0


def main() -> int:
    args = parse_args()
    install_sigterm_as_interrupt()
    concurrencies = [int(c) for c in args.connections.split(",") if c.strip()]
    print(machine_line())
    try:
        with running_system(keep=args.keep) as launcher:
            return bench(launcher, args, concurrencies)
    except KeyboardInterrupt:
        print("\ninterrupted; every process was stopped", file=sys.stderr)
        return 130


def bench(launcher: Any, args: argparse.Namespace, concurrencies: list[int]) -> int:
    cfg = launcher.config
    gateway_url = cfg.gateway_url
    placements_url = f"http://{cfg.host}:{cfg.service_ports['placements']}"
    api_key = launcher.admin_key()
    run_seconds = (args.warmup + args.duration + 30) * (len(concurrencies) * 6 + 2)
    signer = InternalTokenSigner(
        (cfg.data_dir / "keys" / "internal_private.pem").read_text(),
        ttl_seconds=int(run_seconds + 600),
    )
    token = signer.mint(Principal(subject="bench", roles=frozenset({"admin"})))

    # One organisation, registered the only way there is: through the gateway, into
    # agreements; it reaches placements by event.
    status, created = http_json(
        "POST",
        f"{gateway_url}/api/v1/agreements/organisations",
        headers={"authorization": f"Bearer {api_key}"},
        body={"organisation_number": organisation_number(1), "kind": "region", "name": "Bench"},
    )
    if status != 201:
        raise RuntimeError(f"registering the organisation gave {status}: {created}")
    path = f"/api/v1/placements/organisations/{created['id']}"
    deadline = time.monotonic() + 30
    while True:
        status, body = http_json("GET", placements_url + path, headers={INTERNAL_HEADER: token})
        if status == 200:
            break
        if time.monotonic() > deadline:
            raise RuntimeError(f"placements never projected the organisation: {status} {body}")
        time.sleep(0.05)
    status, via_gateway = http_json(
        "GET", gateway_url + path, headers={"authorization": f"Bearer {api_key}"}
    )
    if status != 200 or via_gateway != body:
        raise RuntimeError(f"gateway answered {status}: {via_gateway}")
    print(f"target: GET {path} -> 200, {len(json.dumps(body))} bytes of JSON")

    log_dir = cfg.data_dir / "logs"
    children = ChildProcesses(log_dir)
    try:
        targets: dict[str, tuple[str, dict[str, str]]] = {
            "direct": (placements_url + path, {INTERNAL_HEADER: token}),
            "gateway": (gateway_url + path, {"authorization": f"Bearer {api_key}"}),
        }
        skipped: list[str] = []
        if not args.no_forwarders:
            env = forwarder_env(args.extra_site)
            for transport in TRANSPORTS:
                if transport == "httpx-aiohttp" and not importable("httpx_aiohttp", env):
                    skipped.append(
                        "fwd-httpx-aiohttp: skipped, httpx-aiohttp is not installed (pip "
                        f"install --no-deps --target {args.extra_site} httpx-aiohttp)"
                    )
                    continue
                port = free_port()
                name = f"fwd-{transport}"
                children.start(
                    name,
                    [
                        PYTHON,
                        str(BENCH_DIR / "forwarders.py"),
                        "--transport",
                        transport,
                        "--upstream",
                        placements_url,
                        "--port",
                        str(port),
                    ],
                    env=env,
                )
                url = f"http://{cfg.host}:{port}"
                try:
                    wait_http_ok(url + "/healthz", timeout=30)
                except TimeoutError:
                    children.check_alive(name)
                    raise
                status, answer = http_json("GET", url + path, headers={INTERNAL_HEADER: token})
                if status != 200 or answer != body:
                    raise RuntimeError(f"{name} answered {status}: {answer}")
                targets[name] = (url + path, {INTERNAL_HEADER: token})
        for line in skipped:
            print(line)

        results: dict[tuple[str, int], dict[str, Any]] = {}
        order = [t for t in targets if t != "direct"]
        for conns in concurrencies:
            for label, name in [("direct#1", "direct"), *((t, t) for t in order),
                                ("direct#2", "direct")]:
                url, headers = targets[name]
                result = load(children, label, url, headers, conns, args, log_dir)
                results[(label, conns)] = result
                bad = sum(v for k, v in result["statuses"].items() if k != "200")
                bad += sum(result["errors"].values())
                print(
                    f"  {label:<18} c={conns:<3} {result['rps']:8.0f} req/s  "
                    f"p50 {result['p50_ms']:6.2f} ms  p99 {result['p99_ms']:6.2f} ms"
                    + (f"  NON-200/ERRORS: {bad}" if bad else ""),
                    flush=True,
                )
    finally:
        children.stop_all()

    report(results, list(targets), concurrencies, skipped)
    return 0


def load(
    children: ChildProcesses,
    label: str,
    url: str,
    headers: dict[str, str],
    conns: int,
    args: argparse.Namespace,
    log_dir: Path,
) -> dict[str, Any]:
    out = log_dir / f"loadgen-{label}-{conns}.json"
    argv = [
        PYTHON,
        str(BENCH_DIR / "loadgen.py"),
        "--url",
        url,
        "--connections",
        str(conns),
        "--duration",
        str(args.duration),
        "--warmup",
        str(args.warmup),
        "--out",
        str(out),
    ]
    for key, value in headers.items():
        argv += ["--header", f"{key}: {value}"]
    name = f"loadgen-{label}-{conns}"
    children.start(name, argv)
    code = children.wait(name, timeout=args.duration + args.warmup + 120)
    if code != 0 or not out.exists():
        raise RuntimeError(f"load generator failed ({code}):\n{children.tail(name)}")
    result: dict[str, Any] = json.loads(out.read_text())
    return result


def report(
    results: dict[tuple[str, int], dict[str, Any]],
    targets: list[str],
    concurrencies: list[int],
    skipped: list[str],
) -> None:
    print()
    print("Baseline = direct, mean of the runs before (#1) and after (#2) the others at the")
    print("same concurrency. x direct = req/s ratio; +p50 = median latency added over direct.")
    print()
    rows = []
    baseline: dict[int, dict[str, float]] = {}
    for conns in concurrencies:
        d1, d2 = results[("direct#1", conns)], results[("direct#2", conns)]
        base = {k: (d1[k] + d2[k]) / 2 for k in ("rps", "p50_ms", "p99_ms")}
        baseline[conns] = base
        drift = (d2["rps"] - d1["rps"]) / d1["rps"] if d1["rps"] else float("nan")
        for label in ["direct#1", *[t for t in targets if t != "direct"], "direct#2"]:
            r = results[(label, conns)]
            bad = sum(v for k, v in r["statuses"].items() if k != "200") + sum(r["errors"].values())
            rows.append(
                [
                    label,
                    str(conns),
                    f"{r['rps']:.0f}",
                    fmt_ratio(r["rps"] / base["rps"]),
                    f"{r['p50_ms']:.2f}",
                    f"{r['p99_ms']:.2f}",
                    f"{r['p50_ms'] - base['p50_ms']:+.2f}",
                    str(r["requests"]),
                    str(bad),
                ]
            )
        rows.append(
            [
                "(direct drift #1→#2)",
                str(conns),
                f"{drift:+.0%}",
                "",
                "",
                "",
                "",
                "",
                "",
            ]
        )
    print_table(
        ["target", "conns", "req/s", "x direct", "p50 ms", "p99 ms", "+p50 ms", "requests", "bad"],
        rows,
    )
    for line in skipped:
        print(line)
    print()
    for conns in concurrencies:
        ratio = results[("gateway", conns)]["rps"] / baseline[conns]["rps"]
        print(f"gateway/direct throughput at {conns} connection(s): {ratio:.2f}")
    for conns in concurrencies:
        fwd = [t for t in targets if t.startswith("fwd-")]
        if fwd:
            parts = ", ".join(
                f"{t[4:]} {results[(t, conns)]['rps'] / baseline[conns]['rps']:.2f}" for t in fwd
            )
            print(f"forwarder/direct throughput at {conns} connection(s) by transport: {parts}")
    print()
    if 32 in concurrencies:
        ratio = results[("gateway", 32)]["rps"] / baseline[32]["rps"]
        print(f"gateway/direct at 32 connections: {ratio:.2f} (target >= {TARGET_GATEWAY_RATIO})")
    else:
        print("gateway/direct at 32 connections: not measured (add 32 to --connections)")
    if 1 in concurrencies:
        added = results[("gateway", 1)]["p50_ms"] - baseline[1]["p50_ms"]
        print(
            f"added median latency at 1 connection: {added:.2f} ms (target < {TARGET_ADDED_MS:g} ms)"
        )
    else:
        print("added median latency at 1 connection: not measured (add 1 to --connections)")


if __name__ == "__main__":
    sys.exit(main())
