"""``python -m vfu_common.devrun``: run the whole system until Ctrl-C."""

from __future__ import annotations

import signal
import sys
import time
from types import FrameType

from vfu_common.devrun.launcher import LaunchConfig, Launcher


class _Stop(Exception):
    pass


def _raise_stop(_signum: int, _frame: FrameType | None) -> None:
    raise _Stop


def main() -> int:
    """Start, print where to reach the system, wait for Ctrl-C, stop every child."""
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
  development API keys (send as 'Authorization: Bearer <key>'):""",
            flush=True,
        )
        for key, value in launcher.dev_keys.items():
            print(f"    {key}  roles={','.join(value['roles'])}  ({value['name']})")  # type: ignore[arg-type]
        print("[vfu] press Ctrl-C to stop", flush=True)
        while True:
            exited = launcher.exited()
            if exited:
                print(
                    f"[vfu] {', '.join(exited)} exited unexpectedly:\n"
                    + "\n".join(launcher.tail(n) for n in exited),
                    file=sys.stderr,
                )
                return 1
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
