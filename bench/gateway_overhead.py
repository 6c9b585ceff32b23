"""What the gateway costs: the same GET served directly and through the gateway.

    .venv/bin/python bench/gateway_overhead.py [--duration 10] [--connections 1,32]
                                               [--credential token|api-key]

Starts NATS, the three services (migrated, SQLite) and the gateway as processes on free
ports in a temporary data directory (the launcher the end-to-end tests use), registers
one organisation through the gateway, waits until the placements projection holds it,
then loads ``GET /api/v1/placements/organisations/{id}`` (a 200 with one database read):

* ``minimal`` a minimal FastAPI app (bench/minimal_read.py) running the same statement
              on the same SQLite file with the same driver: the yardstick of what the
              service's own machinery costs (``direct / minimal``, target >= 0.5);
* ``direct``  the placements service itself, with an internal token minted here: the
              baseline every other ratio is taken against;
* ``gateway`` the real gateway (aiohttp transport, authentication of an OAuth2 access
              token, or with ``--credential api-key`` a portal API key, an internal
              token minted per request, header hygiene, request-id middleware);
* ``fwd-*``   minimal forwarders in bench/forwarders.py that differ only by transport
              (httpx default, httpx-aiohttp, bare aiohttp) and do nothing else.

Per concurrency, one load-generator process (bench/loadgen.py: asyncio + aiohttp, one
keep-alive pool of exactly N connections per target) loads the targets in turn, in
``--rounds`` short slices each with its own warm-up, so that every target sees the same
machine; ``--duration`` is the measured time per target, summed over the rounds. Every
process is stopped on exit, also on Ctrl-C.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
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
    http_json,
    install_sigterm_as_interrupt,
    load_line,
    machine_line,
    organisation_number,
    print_table,
    running_system,
)
from vfu_common.internal_token import INTERNAL_HEADER, InternalTokenSigner
from vfu_common.principal import Principal

DEFAULT_EXTRA_SITE = Path.home() / ".cache" / "vfu-bench" / "site"
TRANSPORTS = ("httpx", "httpx-aiohttp", "aiohttp")
TARGET_GATEWAY_RATIO = 0.5
TARGET_SERVICE_RATIO = 0.5  # direct / minimal
TARGET_ADDED_MS = 2.0

Results = dict[int, dict[str, dict[str, Any]]]  # concurrency -> target -> loadgen result


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--duration", type=float, default=10.0, help="measured seconds per target and concurrency"
    )
    parser.add_argument(
        "--rounds", type=int, default=5, help="slices the duration is split into (interleaved)"
    )
    parser.add_argument("--warmup", type=float, default=1.0, help="unmeasured seconds per slice")
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
    parser.add_argument(
        "--credential",
        choices=("token", "api-key"),
        default="token",
        help="what the gateway target authenticates with: the platform admin's access token "
        "(a JWT) or the student portal's API key",
    )
    parser.add_argument("--keep", action="store_true", help="keep the data dir and logs")
    args = parser.parse_args()
    if args.rounds < 1 or args.duration <= 0:
        parser.error("--rounds must be >= 1 and --duration > 0")
    return args


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


def prepare_target(launcher: Any, token: str) -> tuple[str, Any]:
    """Register an organisation through the gateway; wait until placements projects it."""
    cfg = launcher.config
    placements_url = f"http://{cfg.host}:{cfg.service_ports['placements']}"
    admin = launcher.admin_key()
    status, created = http_json(
        "POST",
        f"{cfg.gateway_url}/api/v1/agreements/organisations",
        headers={"authorization": f"Bearer {admin}"},
        body={
            "organisation_number": organisation_number(1),
            "kind": "region",
            "name": "Bench",
            "county_code": "03",  # a region needs its county
        },
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
        "GET", cfg.gateway_url + path, headers={"authorization": f"Bearer {admin}"}
    )
    if status != 200 or via_gateway != body:
        raise RuntimeError(f"gateway answered {status}: {via_gateway}")
    return path, body


def bench(launcher: Any, args: argparse.Namespace, concurrencies: list[int]) -> int:
    cfg = launcher.config
    placements_url = f"http://{cfg.host}:{cfg.service_ports['placements']}"
    # An access token lives 15 minutes: longer than a default run (about 4 minutes).
    credential = (
        launcher.admin_key() if args.credential == "token" else launcher.key_named("student portal")
    )
    print(f"gateway authenticates with: {args.credential}")
    per_concurrency = (args.duration + args.rounds * (args.warmup + 1)) * (len(TRANSPORTS) + 2)
    signer = InternalTokenSigner(
        (cfg.data_dir / "keys" / "internal_private.pem").read_text(),
        ttl_seconds=int(per_concurrency * len(concurrencies) + 900),
    )
    token = signer.mint(Principal(subject="bench", roles=frozenset({"admin"})))
    path, body = prepare_target(launcher, token)
    print(f"target: GET {path} -> 200, {len(json.dumps(body))} bytes of JSON")

    log_dir = cfg.data_dir / "logs"
    children = ChildProcesses(log_dir)
    skipped: list[str] = []
    results: Results = {}
    try:
        targets: list[dict[str, Any]] = [
            start_minimal(children, launcher, path, body),
            {"name": "direct", "url": placements_url + path, "headers": {INTERNAL_HEADER: token}},
            {
                "name": "gateway",
                "url": cfg.gateway_url + path,
                "headers": {"authorization": f"Bearer {credential}"},
            },
        ]
        if not args.no_forwarders:
            targets += start_forwarders(children, args, placements_url, path, body, token, skipped)
        for line in skipped:
            print(line)
        slice_s = args.duration / args.rounds
        print(
            f"{args.rounds} interleaved rounds per concurrency; per target and round "
            f"{args.warmup:g} s warm-up + {slice_s:g} s measured"
        )
        for conns in concurrencies:
            spec = {
                "connections": conns,
                "rounds": args.rounds,
                "warmup_s": args.warmup,
                "slice_s": slice_s,
                "targets": targets,
            }
            spec_file = log_dir / f"loadgen-{conns}.spec.json"
            out = log_dir / f"loadgen-{conns}.result.json"
            spec_file.write_text(json.dumps(spec))
            name = f"loadgen-{conns}"
            children.start(
                name,
                [
                    PYTHON,
                    str(BENCH_DIR / "loadgen.py"),
                    "--spec",
                    str(spec_file),
                    "--out",
                    str(out),
                    "--progress",
                ],
                to_terminal=True,
            )
            code = children.wait(name, timeout=per_concurrency + 300)
            if code != 0 or not out.exists():
                raise RuntimeError(f"load generator failed with {code} (output above)")
            results[conns] = {r["name"]: r for r in json.loads(out.read_text())}
    finally:
        children.stop_all()

    print(load_line())
    report(results, [t["name"] for t in targets], concurrencies, skipped)
    return 0


def start_minimal(children: ChildProcesses, launcher: Any, path: str, body: Any) -> dict[str, Any]:
    """The minimal FastAPI app on the placements database; it must answer what direct does."""
    database = launcher.config.data_dir / "placements.db"
    url = children.serve(
        "minimal", [PYTHON, str(BENCH_DIR / "minimal_read.py"), "--database", str(database)]
    )
    status, answer = http_json("GET", url + path)
    if status != 200 or answer != body:
        raise RuntimeError(f"minimal answered {status}: {answer} (direct: {body})")
    return {"name": "minimal", "url": url + path, "headers": {}}


def start_forwarders(
    children: ChildProcesses,
    args: argparse.Namespace,
    placements_url: str,
    path: str,
    body: Any,
    token: str,
    skipped: list[str],
) -> list[dict[str, Any]]:
    env = forwarder_env(args.extra_site)
    targets = []
    for transport in TRANSPORTS:
        if transport == "httpx-aiohttp" and not importable("httpx_aiohttp", env):
            skipped.append(
                "fwd-httpx-aiohttp: skipped, httpx-aiohttp is not installed (pip install "
                f"--no-deps --target {args.extra_site} httpx-aiohttp)"
            )
            continue
        name = f"fwd-{transport}"
        command = [PYTHON, str(BENCH_DIR / "forwarders.py"), "--transport", transport]
        url = children.serve(name, [*command, "--upstream", placements_url], env=env)
        status, answer = http_json("GET", url + path, headers={INTERNAL_HEADER: token})
        if status != 200 or answer != body:
            raise RuntimeError(f"{name} answered {status}: {answer}")
        targets.append({"name": name, "url": url + path, "headers": {INTERNAL_HEADER: token}})
    return targets


def round_ratios(result: dict[str, Any], base: dict[str, Any]) -> list[float]:
    """Per-round throughput ratios against the baseline's same round."""
    return [
        r["rps"] / b["rps"] if b["rps"] else float("nan")
        for r, b in zip(result["rounds"], base["rounds"], strict=True)
    ]


def report(
    results: Results, targets: list[str], concurrencies: list[int], skipped: list[str]
) -> None:
    print()
    print("Baseline = direct at the same concurrency, measured interleaved with the others.")
    print("x direct = req/s ratio over all rounds; rounds = min..median..max of the per-round")
    print("ratios (their spread shows the noise); +p50 = median latency added over direct.")
    print()
    rows = []
    for conns in concurrencies:
        base = results[conns]["direct"]
        for name in targets:
            r = results[conns][name]
            ratios = sorted(round_ratios(r, base))
            bad = sum(v for k, v in r["statuses"].items() if k != "200") + sum(r["errors"].values())
            rows.append(
                [
                    name,
                    str(conns),
                    f"{r['rps']:.0f}",
                    fmt_ratio(r["rps"] / base["rps"]),
                    ""
                    if name == "direct"
                    else f"{ratios[0]:.2f}..{statistics.median(ratios):.2f}..{ratios[-1]:.2f}",
                    f"{r['p50_ms']:.2f}",
                    f"{r['p99_ms']:.2f}",
                    "" if name == "direct" else f"{r['p50_ms'] - base['p50_ms']:+.2f}",
                    str(r["requests"]),
                    str(bad),
                ]
            )
    print_table(
        [
            "target",
            "conns",
            "req/s",
            "x direct",
            "rounds",
            "p50 ms",
            "p99 ms",
            "+p50 ms",
            "requests",
            "bad",
        ],
        rows,
    )
    for line in skipped:
        print(line)
    print()
    for conns in concurrencies:
        res = results[conns]
        base = res["direct"]
        ratio = res["gateway"]["rps"] / base["rps"]
        print(f"gateway/direct throughput at {conns} connection(s): {ratio:.2f}")
        fwd = [t for t in targets if t.startswith("fwd-")]
        if fwd:
            parts = ", ".join(f"{t[4:]} {res[t]['rps'] / base['rps']:.2f}" for t in fwd)
            print(f"  forwarder/direct by transport at {conns} connection(s): {parts}")
    print()
    for conns in concurrencies:
        ratio = results[conns]["direct"]["rps"] / results[conns]["minimal"]["rps"]
        rounds = sorted(
            1 / r if r else float("nan")
            for r in round_ratios(results[conns]["minimal"], results[conns]["direct"])
        )
        print(
            f"service/minimal (direct / minimal) at {conns} connection(s): {ratio:.2f} "
            f"(rounds {rounds[0]:.2f}..{rounds[-1]:.2f}; target >= {TARGET_SERVICE_RATIO})"
        )
    if 32 in concurrencies:
        ratio = results[32]["gateway"]["rps"] / results[32]["direct"]["rps"]
        print(f"gateway/direct at 32 connections: {ratio:.2f} (target >= {TARGET_GATEWAY_RATIO})")
    else:
        print("gateway/direct at 32 connections: not measured (add 32 to --connections)")
    if 1 in concurrencies:
        added = results[1]["gateway"]["p50_ms"] - results[1]["direct"]["p50_ms"]
        target = f"target < {TARGET_ADDED_MS:g} ms"
        print(f"added median latency at 1 connection: {added:.2f} ms ({target})")
    else:
        print("added median latency at 1 connection: not measured (add 1 to --connections)")


if __name__ == "__main__":
    sys.exit(main())
