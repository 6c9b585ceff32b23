"""Start NATS, migrate, start the three services and the gateway, wait until ready.

``make run`` calls ``python -m vfu_devrun``; the end-to-end tests use the same
``Launcher`` with free ports and a temporary data directory, so what the tests start is
what a developer starts.

On first start the gateway's store gets one OAuth client per development grant and an
API key for the student portal (``vfu dev-credentials``); their secrets are kept in
``<data>/dev_credentials.json``. ``key_named`` turns a grant's name into a bearer value:
the portal's API key, or an access token fetched from the gateway's ``/oauth/token``.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from vfu_common.internal_token import ensure_keypair

from vfu_devrun.demo import development_grants
from vfu_devrun.processes import NatsServer, spawn, terminate
from vfu_devrun.supervision import RestartSchedule

SERVICES = ("agreements", "placements", "supervisors")
GATEWAY = "gateway"
# Everything with a database of its own: the services and the gateway's auth store.
DATABASES = (*SERVICES, GATEWAY)
_ENV_PREFIX = {name: name.upper() + "_" for name in DATABASES}
DEV_CREDENTIALS_FILE = "dev_credentials.json"
# In the data directory: an ISO date the placements service takes as today while the file
# holds one, so a development system can walk a planning round through its dated gates.
CALENDAR_FILE = "placements-today"
# A cached access token is fetched again when it has less than this left.
TOKEN_RENEW_SECONDS = 60


@dataclass
class LaunchConfig:
    """Where and how to run; every field but ``extra_env`` has an environment variable
    (see README)."""

    data_dir: Path
    host: str = "127.0.0.1"
    gateway_port: int = 8000
    service_ports: dict[str, int] = field(
        default_factory=lambda: {"agreements": 8001, "placements": 8002, "supervisors": 8003}
    )
    nats_port: int = 4223
    external_nats_url: str | None = None
    postgres_url: str | None = None
    database_urls: dict[str, str] = field(default_factory=dict)
    demo: bool = True
    ready_timeout: float = 90.0
    # Extra variables for every process (services, gateway, their migrations and ``vfu``
    # commands), over the caller's environment: tests lift the gateway's rate limit here
    # without changing os.environ for the rest of the test session.
    extra_env: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> LaunchConfig:
        """Read VFU_* variables."""
        env = dict(os.environ if env is None else env)
        base = cls(data_dir=Path(env.get("VFU_DATA_DIR", "data")).resolve())
        base.host = env.get("VFU_HOST", base.host)
        base.gateway_port = int(env.get("VFU_GATEWAY_PORT", base.gateway_port))
        for name in SERVICES:
            key = f"VFU_{name.upper()}_PORT"
            base.service_ports[name] = int(env.get(key, base.service_ports[name]))
        base.nats_port = int(env.get("VFU_NATS_PORT", base.nats_port))
        base.external_nats_url = env.get("VFU_NATS_URL") or None
        base.postgres_url = env.get("VFU_POSTGRES_URL") or None
        base.database_urls = {
            name: env[f"{_ENV_PREFIX[name]}DATABASE_URL"]
            for name in DATABASES
            if env.get(f"{_ENV_PREFIX[name]}DATABASE_URL")
        }
        base.demo = env.get("DEMO", "1") != "0"
        return base

    @property
    def gateway_url(self) -> str:
        """Where clients reach the system."""
        return f"http://{self.host}:{self.gateway_port}"


NATS = "nats"


def _say(message: str) -> None:
    print(f"[vfu] {message}", flush=True)


class Launcher:
    """Owns every process of a running system."""

    def __init__(self, config: LaunchConfig, *, quiet: bool = False) -> None:
        self.config = config
        self.quiet = quiet
        self.nats: NatsServer | None = None
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self._logs: list[IO[bytes]] = []
        # {"clients": {grant name: {...client_secret}}, "api_keys": {grant name: {...}}}
        self.credentials: dict[str, dict[str, dict[str, Any]]] = {}
        self._tokens: dict[str, tuple[str, float]] = {}
        # How each child was started, so ``supervise`` can start it again the same way.
        self._commands: dict[str, tuple[list[str], dict[str, str]]] = {}
        self.schedule = RestartSchedule()

    def _say(self, message: str) -> None:
        if not self.quiet:
            _say(message)

    @property
    def log_dir(self) -> Path:
        """Each process's log file lives here."""
        return self.config.data_dir / "logs"

    def nats_url(self) -> str:
        """The NATS the services use."""
        if self.config.external_nats_url:
            return self.config.external_nats_url
        return f"nats://127.0.0.1:{self.config.nats_port}"

    def database_url(self, service: str) -> str:
        """A service's (or the gateway's) database: PostgreSQL when configured, else SQLite."""
        if service in self.config.database_urls:
            return self.config.database_urls[service]
        if self.config.postgres_url:
            return f"{self.config.postgres_url.rstrip('/')}/vfu_{service}"
        return f"sqlite+aiosqlite:///{self.config.data_dir / (service + '.db')}"

    def service_env(self, service: str, public_key: Path) -> dict[str, str]:
        """The environment of one service process."""
        prefix = _ENV_PREFIX[service]
        clock = {f"{prefix}CALENDAR_FILE": str(self.config.data_dir / CALENDAR_FILE)}
        return {
            **os.environ,
            **(clock if service == "placements" else {}),
            **self.config.extra_env,
            f"{prefix}DATABASE_URL": self.database_url(service),
            f"{prefix}NATS_URL": self.nats_url(),
            f"{prefix}INTERNAL_PUBLIC_KEY_FILE": str(public_key),
        }

    def gateway_env(self, private_key: Path) -> dict[str, str]:
        """The environment of the gateway process (and of its ``vfu`` commands)."""
        env = {
            **os.environ,
            **self.config.extra_env,
            "GATEWAY_INTERNAL_PRIVATE_KEY_FILE": str(private_key),
            "GATEWAY_DATABASE_URL": self.database_url(GATEWAY),
        }
        for name in SERVICES:
            port = self.config.service_ports[name]
            env[f"GATEWAY_{name.upper()}_URL"] = f"http://{self.config.host}:{port}"
        return env

    def start(self) -> None:
        """Bring the whole system up; raises if any part fails to become ready."""
        cfg = self.config
        fresh = not (cfg.data_dir.exists() and any(cfg.data_dir.iterdir()))
        cfg.data_dir.mkdir(parents=True, exist_ok=True)
        self.log_dir.mkdir(exist_ok=True)
        private_key, public_key = ensure_keypair(cfg.data_dir / "keys")
        self._start_nats()
        self._create_postgres_databases()
        self._migrate(public_key, private_key)
        for name in SERVICES:
            self._spawn(
                name,
                [
                    sys.executable,
                    "-m",
                    name,
                    "--host",
                    cfg.host,
                    "--port",
                    str(cfg.service_ports[name]),
                ],
                self.service_env(name, public_key),
            )
        self._spawn(
            "gateway",
            [sys.executable, "-m", "gateway", "--host", cfg.host, "--port", str(cfg.gateway_port)],
            self.gateway_env(private_key),
        )
        self._wait_ready()
        if fresh and cfg.demo:
            from vfu_devrun.demo import load_demo

            self._say("loading demo data (DEMO=0 skips this)")
            load_demo(
                cfg.gateway_url,
                self.keys_by_name(),
                calendar_file=cfg.data_dir / CALENDAR_FILE,
                say=self._say,
            )

    @property
    def credentials_file(self) -> Path:
        """Where the demo clients' secrets and the portal's API key are kept."""
        return self.config.data_dir / DEV_CREDENTIALS_FILE

    def admin_key(self) -> str:
        """A bearer value with the admin role (an access token)."""
        return self.key_named("platform admin")

    def grants(self) -> dict[str, dict[str, Any]]:
        """Each development grant by name: ``{name, organisation_id, roles}``."""
        return {
            name: {
                "name": name,
                "organisation_id": client["organisation_id"],
                "roles": client["roles"],
            }
            for name, client in self.credentials.get("clients", {}).items()
        }

    def keys_by_name(self) -> dict[str, str]:
        """A bearer value for every development grant, by the grant's name."""
        return {name: self.key_named(name) for name in self.grants()}

    def key_named(self, name: str) -> str:
        """A value for ``Authorization: Bearer`` acting as the grant called ``name``.

        The student portal's API key; for every other grant an access token of its OAuth
        client, fetched from the running gateway and reused until shortly before expiry.
        """
        api_key = self.credentials.get("api_keys", {}).get(name)
        if api_key is not None:
            return str(api_key["api_key"])
        client = self.credentials.get("clients", {}).get(name)
        if client is None:
            raise KeyError(f"no development grant named {name!r}")
        cached = self._tokens.get(name)
        if cached is not None and cached[1] - time.monotonic() > TOKEN_RENEW_SECONDS:
            return cached[0]
        token, expires_in = fetch_access_token(
            self.config.gateway_url, client["client_id"], client["client_secret"]
        )
        self._tokens[name] = (token, time.monotonic() + expires_in)
        return token

    @property
    def dev_keys(self) -> dict[str, dict[str, Any]]:
        """Bearer value → its grant, the shape of the development keys this replaced.

        Kept for callers written against them (``dev_keys[key_named(n)]["organisation_id"]``).
        """
        return {self.key_named(name): grant for name, grant in self.grants().items()}

    def _load_dev_credentials(self) -> None:
        self.credentials = json.loads(self.credentials_file.read_text())
        self._tokens.clear()

    def _start_nats(self) -> None:
        if self.config.external_nats_url:
            self._say(f"using external NATS at {self.config.external_nats_url}")
            return
        self._say(f"starting NATS with JetStream on port {self.config.nats_port}")
        self.nats = NatsServer(
            self.config.nats_port, self.config.data_dir / "nats", log_file=self.log_dir / "nats.log"
        ).start()
        self.schedule.started(NATS, time.monotonic())

    def _create_postgres_databases(self) -> None:
        if not self.config.postgres_url:
            return
        from vfu_devrun.postgres import ensure_databases

        ensure_databases(self.config.postgres_url, [f"vfu_{name}" for name in DATABASES])

    def _migrate(self, public_key: Path, private_key: Path) -> None:
        # In parallel: each migration is a Python start-up plus a few statements. The
        # gateway's process also makes the demo clients and portal key on first start
        # (`vfu dev-credentials`), from the grants on its stdin.
        running = {}
        for name in SERVICES:
            self._say(f"migrating {name} ({self.database_url(name).split('://')[0]})")
            running[name] = _start(
                [sys.executable, "-m", name, "--migrate-only"], self.service_env(name, public_key)
            )
        self._say(f"migrating {GATEWAY} ({self.database_url(GATEWAY).split('://')[0]})")
        out = str(self.credentials_file)
        running[GATEWAY] = _start(
            [sys.executable, "-m", "gateway.admin", "dev-credentials", "--migrate", "--out", out],
            self.gateway_env(private_key),
            stdin=json.dumps(development_grants()).encode(),
        )
        for name, proc in running.items():
            _, stderr = proc.communicate()
            if proc.returncode != 0:
                raise RuntimeError(f"migrating {name} failed:\n{stderr.decode()[-2000:]}")
        self._load_dev_credentials()

    def _spawn(self, name: str, args: list[str], env: dict[str, str]) -> None:
        log = open(self.log_dir / f"{name}.log", "ab")  # noqa: SIM115 - closed in stop()
        self._logs.append(log)
        self.procs[name] = spawn(args, env=env, log=log)
        self._commands[name] = (args, env)
        self.schedule.started(name, time.monotonic())

    def supervise(self) -> list[str]:
        """Start again, with backoff, each child (NATS, a service, the gateway) that died.

        Called every half second by ``make run``; says, and returns, what it did. NATS
        keeps its JetStream store, so the services reconnect and nothing is lost.
        """
        said: list[str] = []

        def say(message: str) -> None:
            said.append(message)
            self._say(message)

        children: dict[str, int | None] = {name: proc.poll() for name, proc in self.procs.items()}
        if self.nats is not None and self.nats.proc is not None:
            children = {NATS: self.nats.proc.poll(), **children}
        now = time.monotonic()
        for name, code in children.items():
            if code is None:
                continue
            if not self.schedule.waiting(name):
                delay = self.schedule.died(name, now)
                say(
                    f"{name} exited with code {code}; starting it again in {delay:.1f}s "
                    f"(restart {self.schedule.restarts(name)}); log: {self.log_dir / name}.log"
                )
            elif self.schedule.due(name, now):
                self._restart(name)
                say(f"{name} started again")
        return said

    def _restart(self, name: str) -> None:
        if name == NATS:
            assert self.nats is not None
            # Still down after its wait: the next supervise() sees it exited, waits longer.
            with contextlib.suppress(TimeoutError):
                self.nats.start()
            self.schedule.started(NATS, time.monotonic())
            return
        args, env = self._commands[name]
        self._spawn(name, args, env)

    def _ready_urls(self) -> dict[str, str]:
        urls = {
            name: f"http://{self.config.host}:{port}/readyz"
            for name, port in self.config.service_ports.items()
        }
        urls["gateway"] = f"{self.config.gateway_url}/readyz"
        return urls

    def _wait_ready(self) -> None:
        pending = self._ready_urls()
        deadline = time.monotonic() + self.config.ready_timeout
        self._say(f"waiting for {', '.join(pending)} to report ready")
        while pending:
            for name, proc in self.procs.items():
                if proc.poll() is not None:
                    raise RuntimeError(
                        f"{name} exited with {proc.returncode}; see "
                        f"{self.log_dir / (name + '.log')}:\n{self.tail(name)}"
                    )
            for name, url in list(pending.items()):
                if _http_ok(url):
                    self._say(f"{name} ready")
                    del pending[name]
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"not ready after {self.config.ready_timeout}s: {sorted(pending)}"
                )
            time.sleep(0.2)

    def tail(self, name: str, lines: int = 20) -> str:
        """The last lines of a process's log."""
        path = self.log_dir / f"{name}.log"
        return (
            "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
            if path.exists()
            else ""
        )

    def exited(self) -> list[str]:
        """Names of processes that have exited."""
        return [name for name, proc in self.procs.items() if proc.poll() is not None]

    def stop(self) -> None:
        """Stop the gateway first, then the services, then NATS."""
        for name in ["gateway", *reversed(SERVICES)]:
            if name in self.procs:
                terminate(self.procs[name])
        if self.nats is not None:
            self.nats.stop()
        for log in self._logs:
            log.close()


def _start(args: list[str], env: dict[str, str], *, stdin: bytes = b"") -> subprocess.Popen[bytes]:
    """A child whose output is collected and which reads ``stdin`` (from a file, so that
    nothing waits on a pipe until the parent gets round to it)."""
    with tempfile.TemporaryFile() as source:
        source.write(stdin)
        source.seek(0)
        return subprocess.Popen(
            args, env=env, stdin=source, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )


def fetch_access_token(gateway_url: str, client_id: str, secret: str) -> tuple[str, int]:
    """(access token, seconds it lives) from the gateway's client credentials grant."""
    # RFC 6749 §2.3.1: id and secret are form-encoded before they go into Basic.
    basic = f"{urllib.parse.quote_plus(client_id)}:{urllib.parse.quote_plus(secret)}"
    request = urllib.request.Request(  # noqa: S310 - the local gateway
        f"{gateway_url}/oauth/token",
        data=b"grant_type=client_credentials",
        method="POST",
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Authorization": "Basic " + base64.b64encode(basic.encode()).decode(),
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            body = json.load(response)
    except urllib.error.HTTPError as exc:
        detail = exc.read().decode(errors="replace")
        raise RuntimeError(f"token request for {client_id} gave {exc.code}: {detail}") from exc
    return str(body["access_token"]), int(body["expires_in"])


def _http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as response:  # noqa: S310 - local URL
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False
