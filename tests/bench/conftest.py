"""Bench fixtures: servers in their own processes, so the load generator (this process) does not
share a GIL with what it measures. Not part of the default test run (`make bench`)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest


class Server:
    def __init__(self, argv: list[str], env: dict[str, str] | None = None) -> None:
        self.proc = subprocess.Popen(
            argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env or os.environ.copy()
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline().strip()
        if not line.startswith("http"):
            self.proc.kill()
            raise RuntimeError(f"server did not announce a URL: {line!r} {self.proc.stderr.read()[-2000:]!r}")
        self.url = line

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


@pytest.fixture
def emulator_process(tmp_path: Path) -> Iterator[Server]:
    """`lobby emulator` in a subprocess on a free loopback port, with its own SQLite file."""
    server = Server(
        [sys.executable, "-m", "lobby", "emulator", "--port", "0", "--db", str(tmp_path / "bench.db"), "--time-travel"]
    )
    try:
        yield server
    finally:
        server.stop()


BARE_APP = textwrap.dedent(
    '''
    """The smallest useful endpoint: any POST answered with {} as AWS JSON 1.1."""
    import socket
    import sys

    import uvicorn


    async def app(scope, receive, send):
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        more = True
        while more:
            message = await receive()
            more = message.get("more_body", False)
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"application/x-amz-json-1.1"), (b"content-length", b"2")],
            }
        )
        await send({"type": "http.response.body", "body": b"{}"})


    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(2048)
    print(f"http://127.0.0.1:{sock.getsockname()[1]}", flush=True)
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on", server_header=False)
    uvicorn.Server(config).run(sockets=[sock])
    '''
)


@pytest.fixture
def bare_process(tmp_path: Path) -> Iterator[Server]:
    """A bare ASGI app on uvicorn (same uvicorn settings as the emulator) on another port."""
    script = tmp_path / "bare.py"
    script.write_text(BARE_APP)
    server = Server([sys.executable, str(script)])
    try:
        yield server
    finally:
        server.stop()
