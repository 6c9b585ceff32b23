"""free_port never hands out a port twice, even when the kernel offers it again."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from vfu_devrun import processes


class _OfferedPorts:
    """socket.socket stand-in whose bind(0) yields the ports given, in order."""

    def __init__(self, ports: Iterator[int]) -> None:
        self._ports = ports

    def __call__(self) -> _OfferedPorts:
        self._port = next(self._ports)
        return self

    def __enter__(self) -> _OfferedPorts:
        return self

    def __exit__(self, *exc: Any) -> None:
        return None

    def bind(self, address: tuple[str, int]) -> None:
        assert address == ("127.0.0.1", 0)

    def getsockname(self) -> tuple[str, int]:
        return ("127.0.0.1", self._port)


def test_a_port_offered_again_is_skipped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(processes, "_HANDED_OUT", set())
    monkeypatch.setattr(processes.socket, "socket", _OfferedPorts(iter([40001, 40001, 40002])))
    assert [processes.free_port(), processes.free_port()] == [40001, 40002]


def test_real_ports_are_distinct_and_bindable() -> None:
    ports = [processes.free_port() for _ in range(50)]
    assert len(set(ports)) == 50
