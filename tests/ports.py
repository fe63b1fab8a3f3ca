"""Loopback ports for the servers tests start (moto, the daemon's endpoint, Slack stand-ins).

One helper for every test module: a port the OS just handed out, so parallel test workers and
other daemons on the host never collide on a fixed one.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def moto_server_url() -> Iterator[str]:
    """moto's server in this process on a free loopback port, stopped on exit."""
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()
