"""NatsServer.start says why a server did not come up, at once, instead of timing out."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from vfu_devrun.processes import NatsServer, free_port


def test_a_server_that_cannot_bind_its_port_fails_at_once_with_its_log(tmp_path: Path) -> None:
    port = free_port()
    # Bound but not listening: what an outgoing connection's local port looks like, the
    # way a port handed out a moment ago can be taken before the server binds it.
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", port))
        server = NatsServer(port, tmp_path / "js", log_file=tmp_path / "nats.log")
        # RuntimeError, not the TimeoutError of waiting out the 20 s for the port.
        with pytest.raises(RuntimeError, match=f"127.0.0.1:{port} exited") as raised:
            server.start()
    assert any("nats-server log" in note for note in raised.value.__notes__)
