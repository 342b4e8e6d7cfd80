"""Running the emulator: in the foreground (``lobby emulator``) or on a background thread."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import os
import socket
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from types import FrameType

import uvicorn
from fastapi import FastAPI
from uvicorn.protocols.http.h11_impl import H11Protocol

from lobby.core.clock import Clock
from lobby.emulator.app import create_app, serving_app
from lobby.emulator.guard import is_loopback
from lobby.emulator.runtime import EmulatorConfig, Runtime


def bind(host: str, port: int) -> socket.socket:
    """Bind the listening socket ourselves, so port 0 yields a known free port before serving."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP: asyncio sets TCP_NODELAY only on accepted sockets whose protocol says TCP;
    # without it every response waits ~40 ms for a delayed ACK.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def base_url(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}"


class _Server(uvicorn.Server):
    """uvicorn's server, telling the emulator to end its event streams when asked to stop."""

    def __init__(self, config: uvicorn.Config, runtime: Runtime) -> None:
        super().__init__(config)
        self.runtime = runtime

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        self.runtime.stopping.set()
        self.runtime.poke()
        super().handle_exit(sig, frame)


#: A connection that has not sent a whole request head this long after it opened is closed.
#: (Between requests, uvicorn's keep-alive timeout closes an idle connection.)
REQUEST_HEAD_SECONDS = 10.0


class _Protocol(H11Protocol):
    """uvicorn's HTTP/1.1 protocol, closing connections that never send a request: an idle
    or trickling client holds no socket for long."""

    _head_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]  # uvicorn narrows it too
        super().connection_made(transport)
        self._head_timer = self.loop.call_later(REQUEST_HEAD_SECONDS, self._no_request)

    def _no_request(self) -> None:
        if self.cycle is None and not self.transport.is_closing():
            self.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
        super().connection_lost(exc)


def _uvicorn_config(app: FastAPI, log_level: str) -> uvicorn.Config:
    return uvicorn.Config(
        serving_app(app),
        http=_Protocol,
        log_level=log_level,
        access_log=False,
        lifespan="on",
        timeout_graceful_shutdown=2,
        server_header=False,
        date_header=False,  # ServerDate dates every answer by the emulator's clock
    )


def serve(
    config: EmulatorConfig,
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    announce: Callable[[str], None] | None = None,
    announce_file: Path | None = None,
    log_level: str = "warning",
) -> None:
    """Serve in the foreground until interrupted. The base URL is announced before serving."""
    sock = bind(host, port)
    url = base_url(sock)
    app = create_app(config.model_copy(update={"public_host": host}))
    server = _Server(_uvicorn_config(app, log_level), app.state.runtime)
    if not is_loopback(host):
        _warn(exposure(url, app.state.runtime.config, app.state.control_token, given=config.control_token is not None))
    (announce or _print_line)(url)
    if announce_file is not None:
        announce_file.parent.mkdir(parents=True, exist_ok=True)
        announce_file.write_text(json.dumps({"url": url, "pid": os.getpid()}))
    # Everything built so far lives as long as the process: keep the collector from scanning it
    # again and again under load.
    gc.collect()
    gc.freeze()
    try:
        server.run(sockets=[sock])
    finally:
        if announce_file is not None:
            with contextlib.suppress(OSError):
                info = json.loads(announce_file.read_text())
                if info.get("pid") == os.getpid():
                    announce_file.unlink()


def exposure(url: str, config: EmulatorConfig, token: str, *, given: bool) -> str:
    """What an emulator listening beyond loopback exposes, and how its control plane is guarded.
    The token is shown only when it was made here (once: it is not kept anywhere else)."""
    sigv4 = "signatures checked" if config.verify_sigv4 else "signatures NOT checked: anyone may call it"
    tickets = "" if config.verify_sigv4 else " and every FlexMatch ticket event"
    lines = [
        f"lobby emulator: listening at {url}, beyond loopback: other machines can reach it.",
        f"  Open to anyone who reaches it: the GameLift FlexMatch API ({sigv4}); the TeamBattles "
        "API (the scenario's test keys, listed by `lobby demo-keys`, work for anyone who has "
        "them); /_emulator/health; /_emulator/events, showing published matches"
        f"{tickets} only.",
        "  Behind the control token: /_emulator/faults (fault injection), /_emulator/clock, the "
        "whole event stream (drafts, acceptances, private teams), /_emulator/docs. Send "
        "Authorization: Bearer <token>.",
    ]
    if given:
        lines.append("  The token is the one given in LOBBY_EMULATOR_TOKEN.")
    else:
        lines.append(f"  Control token (made now, shown this once): {token}")
    return "\n".join(lines)


def _warn(text: str) -> None:
    sys.stderr.write(text + "\n")
    sys.stderr.flush()


def _print_line(text: str) -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


class EmulatorThread:
    """The emulator on a loopback port, served from a background thread.

    Used by ``lobby demo``, by integration tests (which talk real HTTP to it) and by benches::

        with EmulatorThread(EmulatorConfig(time_travel=True)) as emu:
            httpx.get(emu.url + "/_emulator/health")
    """

    def __init__(
        self,
        config: EmulatorConfig | None = None,
        *,
        clock: Clock | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        log_level: str = "warning",
    ) -> None:
        self.config = (config or EmulatorConfig()).model_copy(update={"public_host": host})
        self._sock = bind(host, port)
        self.url = base_url(self._sock)
        self.app = create_app(self.config, clock=clock)
        self.runtime: Runtime = self.app.state.runtime
        self._server = _Server(_uvicorn_config(self.app, log_level), self.runtime)
        self._thread = threading.Thread(target=self._run, name="lobby-emulator", daemon=True)

    def _run(self) -> None:
        asyncio.run(self._server.serve(sockets=[self._sock]))

    def start(self) -> EmulatorThread:
        self._thread.start()
        while not self._server.started:
            if not self._thread.is_alive():
                raise RuntimeError("the emulator stopped while starting")
            self._thread.join(0.01)
        return self

    def stop(self) -> None:
        self.runtime.stopping.set()
        self.runtime.poke()
        self._server.should_exit = True
        self._thread.join(10)
        self._sock.close()
        self.runtime.store.close()

    def __enter__(self) -> EmulatorThread:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
