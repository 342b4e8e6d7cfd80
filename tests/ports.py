"""Loopback ports for servers a test starts in a process of its own."""

from __future__ import annotations

import socket
import time


def free_port() -> int:
    """A port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_listening(port: int, within: float, what: str) -> None:
    """Return once something accepts connections on 127.0.0.1:``port``; fail after ``within``
    seconds, saying ``what`` did not start."""
    deadline = time.monotonic() + within
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), 0.5).close()
            return
        except OSError:
            assert time.monotonic() < deadline, f"{what} did not start listening"
            time.sleep(0.05)
