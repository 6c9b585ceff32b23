"""``python -m vfu_devrun``: run the whole system until Ctrl-C."""

from __future__ import annotations

import signal
import sys
import time
from types import FrameType

from vfu_devrun.launcher import LaunchConfig, Launcher


class _Stop(Exception):
    pass


def _raise_stop(_signum: int, _frame: FrameType | None) -> None:
    raise _Stop


def demo_credentials(launcher: Launcher) -> str:
    """The demo OAuth clients and portal key, and how to use them, for the terminal."""
    gateway = launcher.config.gateway_url
    clients = launcher.credentials.get("clients", {})
    lines = [f"  demo OAuth clients (secrets also in {launcher.credentials_file}):"]
    for name, client in clients.items():
        roles = ",".join(client["roles"])
        lines.append(f"    {name:<20} {roles:<11} {client['client_id']}  {client['client_secret']}")
    for name, key in launcher.credentials.get("api_keys", {}).items():
        lines.append(f"  {name} API key (role portal): {key['api_key']}")
    admin = clients.get("platform admin")
    if admin:
        lines += [
            "  get a short-lived access token and call the API with it:",
            f"    TOKEN=$(curl -s -u '{admin['client_id']}:{admin['client_secret']}' "
            f"-d grant_type=client_credentials {gateway}/oauth/token | "
            """python3 -c 'import json,sys;print(json.load(sys.stdin)["access_token"])')""",
            f'    curl -s -H "Authorization: Bearer $TOKEN" {gateway}/api/v1/agreements/audit',
        ]
    return "\n".join(lines)


def main() -> int:
    """Start, print where to reach the system, restart what dies until Ctrl-C, stop all."""
    config = LaunchConfig.from_env()
    launcher = Launcher(config)
    signal.signal(signal.SIGINT, _raise_stop)
    signal.signal(signal.SIGTERM, _raise_stop)
    try:
        launcher.start()
        print(
            f"""
[vfu] the VFU platform is up
  gateway   {config.gateway_url}
  API docs  {config.gateway_url}/docs
  OpenAPI   {config.gateway_url}/openapi.json
  logs      {launcher.log_dir}/
{demo_credentials(launcher)}""",
            flush=True,
        )
        print("[vfu] press Ctrl-C to stop", flush=True)
        while True:
            # A child that dies is started again, with backoff, and the output says so.
            launcher.supervise()
            time.sleep(0.5)
    except _Stop:
        print("\n[vfu] stopping", flush=True)
        return 0
    except Exception as exc:
        print(f"[vfu] start-up failed: {exc}", file=sys.stderr)
        return 1
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not cut the stop short
        launcher.stop()
        print("[vfu] stopped", flush=True)


if __name__ == "__main__":
    sys.exit(main())
