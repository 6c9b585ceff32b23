"""free_port hands out ports outside the ephemeral range, once, reserved across processes."""

from __future__ import annotations

import socket
import subprocess
import sys

import pytest
from vfu_devrun import processes


def test_ports_come_from_outside_the_ephemeral_range() -> None:
    low, high = processes._ephemeral_range()
    ports = [processes.free_port() for _ in range(50)]
    assert len(set(ports)) == 50
    assert all(not low <= port <= high for port in ports)
    for port in ports:  # each is bindable now
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", port))


def test_a_port_in_use_is_skipped(monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        busy = listener.getsockname()[1]
        listener.listen()
        monkeypatch.setattr(processes, "port_pool", lambda: range(busy, busy + 1))
        with pytest.raises(RuntimeError, match="no free port"):
            processes.free_port()


def test_a_port_another_process_holds_is_skipped(monkeypatch: pytest.MonkeyPatch) -> None:
    # Another process hands out a port and keeps it (as a pytest worker does while its
    # child has not bound it yet): this process must not hand out the same one.
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys; from vfu_devrun.processes import free_port; "
            "print(free_port(), flush=True); sys.stdin.read()",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None
        held = int(holder.stdout.readline())
        monkeypatch.setattr(processes, "port_pool", lambda: range(held, held + 1))
        with pytest.raises(RuntimeError, match="no free port"):
            processes.free_port()
    finally:
        holder.communicate("")
    # Released with the process that held it.
    monkeypatch.setattr(processes, "_HANDED_OUT", {})
    assert processes.free_port() == held
