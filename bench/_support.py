"""Shared pieces of the benchmarks: the system under test, statistics, tables.

Not a test module and not part of any package: ``bench/*.py`` scripts import it by
name because Python puts the script's own directory first on ``sys.path``.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from vfu_devrun.launcher import SERVICES, LaunchConfig, Launcher
from vfu_devrun.processes import free_port, spawn, terminate
from vfu_domain.identifiers import luhn_check_digit

BENCH_DIR = Path(__file__).resolve().parent
PYTHON = sys.executable
BENCH_GATEWAY_ENV = {
    "GATEWAY_RATE_LIMIT_PER_SECOND": "1000000",
    "GATEWAY_RATE_LIMIT_BURST": "1000000",
}


# --------------------------------------------------------------------------- processes


def _raise_keyboard_interrupt(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt


def install_sigterm_as_interrupt() -> None:
    """SIGTERM unwinds like Ctrl-C, so every ``finally`` stops its processes.

    SIGINT gets Python's default handler back even if we were started with it ignored
    (as background jobs of a non-interactive shell are).
    """
    signal.signal(signal.SIGTERM, _raise_keyboard_interrupt)
    signal.signal(signal.SIGINT, signal.default_int_handler)


def launch_config(data_dir: Path) -> LaunchConfig:
    """The launcher's configuration with free ports everywhere and no demo data."""
    ports = {name: free_port() for name in SERVICES}
    return LaunchConfig(
        data_dir=data_dir,
        gateway_port=free_port(),
        service_ports=ports,
        nats_port=free_port(),
        demo=False,
    )


@contextlib.contextmanager
def running_system(*, keep: bool = False, say: Any = print) -> Iterator[Launcher]:
    """NATS, the three services (migrated) and the gateway on free ports, in a temp dir.

    Everything is stopped on exit, also on Ctrl-C; the data directory is removed unless
    ``keep`` (then its path is printed, with the processes' logs under ``logs/``).
    """
    data_dir = Path(tempfile.mkdtemp(prefix="vfu-bench-"))
    # The launcher passes our environment to the gateway: lift its per-client rate limit,
    # or one benchmark client would measure 429s (a caller's own setting still wins).
    for name, value in BENCH_GATEWAY_ENV.items():
        os.environ.setdefault(name, value)
    launcher = Launcher(launch_config(data_dir), quiet=True)
    started = time.perf_counter()
    try:
        say(f"starting NATS, {', '.join(SERVICES)} and the gateway in {data_dir} ...")
        try:
            launcher.start()
        except Exception:
            for name in [*SERVICES, "gateway"]:
                tail = launcher.tail(name)
                if tail:
                    say(f"--- {name}.log ---\n{tail}")
            raise
        say(f"system ready in {time.perf_counter() - started:.1f}s")
        yield launcher
    finally:
        launcher.stop()
        if keep:
            say(f"kept data directory {data_dir}")
        else:
            shutil.rmtree(data_dir, ignore_errors=True)


class ChildProcesses:
    """Bench-owned child processes (die with us; stopped one by one, by pid)."""

    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self._logs: list[Any] = []

    def start(
        self,
        name: str,
        args: list[str],
        env: dict[str, str] | None = None,
        *,
        to_terminal: bool = False,
    ) -> None:
        """Start ``args``; output goes to ``<log_dir>/<name>.log`` or, if asked, to ours."""
        if to_terminal:
            self.procs[name] = spawn(args, env=env)
            return
        log = open(self.log_dir / f"{name}.log", "ab")  # noqa: SIM115 - closed in stop_all
        self._logs.append(log)
        self.procs[name] = spawn(args, env=env, log=log)

    def serve(self, name: str, args: list[str], env: dict[str, str] | None = None) -> str:
        """Start a server ``args --port P`` on a free port; its base URL once /healthz answers."""
        port = free_port()
        self.start(name, [*args, "--port", str(port)], env=env)
        url = f"http://127.0.0.1:{port}"
        try:
            wait_http_ok(url + "/healthz", timeout=30)
        except TimeoutError:
            self.check_alive(name)  # a crash says why; else the timeout stands
            raise
        return url

    def wait(self, name: str, timeout: float) -> int:
        proc = self.procs[name]
        try:
            return proc.wait(timeout=timeout)
        finally:
            if proc.poll() is None:
                terminate(proc)
            del self.procs[name]

    def check_alive(self, name: str) -> None:
        proc = self.procs[name]
        if proc.poll() is not None:
            raise RuntimeError(f"{name} exited with {proc.returncode}:\n{self.tail(name)}")

    def tail(self, name: str, lines: int = 30) -> str:
        path = self.log_dir / f"{name}.log"
        if not path.exists():
            return ""
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])

    def stop_all(self) -> None:
        for proc in list(self.procs.values()):
            terminate(proc)
        self.procs.clear()
        for log in self._logs:
            log.close()
        self._logs.clear()


def wait_http_ok(url: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with (
            contextlib.suppress(urllib.error.URLError, OSError),
            urllib.request.urlopen(url, timeout=1) as response,  # local URL
        ):
            if response.status < 500:
                return
        time.sleep(0.1)
    raise TimeoutError(f"{url} did not answer within {timeout}s")


# --------------------------------------------------------------------------- data


def organisation_number(n: int) -> str:
    """A valid organisationsnummer, unique for ``n`` below a million (third digit 2, Luhn)."""
    nine = f"552{n % 1_000_000:06d}"
    return nine + str(luhn_check_digit(nine))


def http_json(
    method: str, url: str, *, headers: dict[str, str] | None = None, body: Any = None
) -> tuple[int, Any]:
    """A blocking JSON call (set-up only, never on a measured path)."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method)  # local URL
    request.add_header("accept", "application/json")
    if data is not None:
        request.add_header("content-type", "application/json")
    for key, value in (headers or {}).items():
        request.add_header(key, value)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as exc:
        raw = exc.read()
        try:
            return exc.code, json.loads(raw)
        except ValueError:
            return exc.code, raw.decode(errors="replace")


# --------------------------------------------------------------------------- statistics


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile of already sorted values (q in 0..100)."""
    if not sorted_values:
        return float("nan")
    rank = max(1, min(len(sorted_values), round(q / 100 * len(sorted_values) + 0.5)))
    return sorted_values[rank - 1]


def fmt_ratio(value: float | None) -> str:
    return "—" if value is None or value != value else f"{value:.2f}"


def print_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]
    line = "  ".join(
        h.ljust(w) if i == 0 else h.rjust(w)
        for i, (h, w) in enumerate(zip(headers, widths, strict=True))
    )
    print(line)
    print("  ".join("-" * w for w in widths))
    for row in rows:
        print(
            "  ".join(
                c.ljust(w) if i == 0 else c.rjust(w)
                for i, (c, w) in enumerate(zip(row, widths, strict=True))
            )
        )


def machine_line() -> str:
    load = os.getloadavg()
    return (
        f"machine: {os.cpu_count()} cores, load average {load[0]:.2f}/{load[1]:.2f}/{load[2]:.2f}, "
        f"python {sys.version.split()[0]}"
    )


def load_line() -> str:
    load = os.getloadavg()
    return f"load average at the end: {load[0]:.2f}/{load[1]:.2f}/{load[2]:.2f}"
