"""The emulator's outermost layer: body caps on every route, whole bodies only, a guarded
control plane.

- **Body caps.** No route reads more than its cap: the services refuse a larger body themselves
  (in their own error shapes); every other route (``/_emulator/*``, ``PUT /_emulator/faults``
  among them) is capped here: a ``Content-Length`` above :data:`BODY_CAP` is answered 413 at
  once, without reading; a chunked body is refused (413) as soon as it passes the cap.
- **Whole bodies only.** A body is read to its end before its handler is called (GameLift's
  endpoints do the same themselves), so a client that goes away while sending it has nothing
  run for it; that is not an error of the emulator, and is logged at debug level only.
- **Readers that stop reading.** An event stream whose client has not taken a write within
  :data:`SEND_TIMEOUT` is closed: a stalled reader holds neither the server's memory nor its
  time. (Live events are written straight to the connection, see :class:`DirectChunks`; the
  same deadline holds there.) (Idle connections without a request are closed by the server itself, see
  :mod:`lobby.emulator.server`.)
- **The control plane.** When the emulator is *guarded* (it listens beyond loopback, or a token
  was given), ``/_emulator/*`` answers 401 unless the request carries the control token
  (``Authorization: Bearer <token>`` or ``X-Emulator-Token: <token>``). Two routes stay open,
  because they show no more than the services' own APIs do: the health check, and the event
  stream, which without the token shows only the events the APIs would show an anonymous
  caller (see :func:`public_event`).
"""

from __future__ import annotations

import asyncio
import hmac
import ipaddress
import json
import logging
import secrets
from collections import deque
from typing import Protocol

from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from lobby.core.events import EVENTS_PATH, HEALTH_PATH, EventSource
from lobby.emulator.events import Event
from lobby.emulator.teambattles.wire import MAX_BODY_BYTES as TEAMBATTLES_BODY_CAP
from lobby.core.answers import PublishStatus

log = logging.getLogger("lobby.emulator.guard")

CONTROL_PREFIX = "/_emulator/"
#: How long a write to an event stream's client may wait for room before the stream is closed.
SEND_TIMEOUT = 10.0
TOKEN_HEADER = b"x-emulator-token"
#: Routes of the control plane open without the token (they show what the APIs show anyone).
OPEN_ROUTES = frozenset({HEALTH_PATH, EVENTS_PATH})

#: The cap of a body sent to any route but the services' (``/_emulator/*``, unknown paths).
#: GameLift (1 MiB) and TeamBattles (64 KiB) refuse a larger body themselves, in their own
#: error shapes, without reading on.
BODY_CAP = 64 * 1024


def is_loopback(host: str) -> bool:
    """Whether ``host`` (an address or a name) is reachable from this machine only."""
    if host.lower() in ("localhost", "localhost.localdomain"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def new_token() -> str:
    return secrets.token_urlsafe(24)


def public_event(event: Event, *, signed: bool) -> bool:
    """Whether an anonymous caller of the APIs could see what ``event`` shows.

    TeamBattles: only events about a published match, which discovery lists to anyone (drafts,
    acceptances and challenges are shown to their teams only). GameLift: every ticket event
    when the emulator does not check signatures (anyone can then describe any ticket), none
    when it does."""
    if event.source == EventSource.GAMELIFT:
        return not signed
    if event.source != EventSource.TEAMBATTLES or not event.type.startswith("match."):
        return False
    data = event.payload.get("data")
    match = data.get("match") if isinstance(data, dict) else None
    return isinstance(match, dict) and match.get("publishStatus") == PublishStatus.PUBLISHED


class Guard:
    """The ASGI layer; ``token`` None means the control plane is open (loopback only)."""

    __slots__ = ("app", "token")

    def __init__(self, app: ASGIApp, token: str | None) -> None:
        self.app = app
        self.token = token

    def authorized(self, scope: Scope) -> bool:
        """Whether the request carries the control token (always, when there is none)."""
        if self.token is None:
            return True
        wanted = self.token.encode()
        for key, value in scope.get("headers", ()):
            if key == TOKEN_HEADER:
                given = value
            elif key == b"authorization" and value[:7].lower() == b"bearer ":
                given = value[7:].strip()
            else:
                continue
            if hmac.compare_digest(given, wanted):
                return True
        return False

    async def _run(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await self.app(scope, receive, send)
        except ClientDisconnect:  # the client left while sending its body: nothing ran
            log.debug("client left while sending %s %r", scope["method"], scope["path"])

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        path: str = scope["path"]
        if path.startswith(CONTROL_PREFIX) or path == CONTROL_PREFIX.rstrip("/"):
            authorized = self.authorized(scope)
            if not authorized and path not in OPEN_ROUTES:
                return await _answer(send, 401, "unauthorized", (
                    "The emulator's control routes need its token: send "
                    "Authorization: Bearer <token> (printed when the emulator started)."
                ))  # fmt: skip
            state = scope.setdefault("state", {})
            state["control"] = authorized
            if path == EVENTS_PATH:
                state["connection"] = DirectChunks.of(scope, send)
                send = _with_deadline(send, SEND_TIMEOUT)
        if path == "/" or path.startswith("/service/"):
            # GameLift's hot path reads its body itself, whole or not at all (its own cap).
            return await self._run(scope, receive, send)
        service = path == "/api/v1" or path.startswith("/api/v1/")
        # TeamBattles refuses a body past its cap itself, in its own error shape.
        cap = TEAMBATTLES_BODY_CAP if service else BODY_CAP
        has_body = False
        for key, value in scope.get("headers", ()):
            if key == b"content-length":
                has_body = value not in (b"0", b"")
                if value.isdigit() and (len(value) > 18 or int(value) > cap):
                    if service:  # refused at once by TeamBattles, in its own shape
                        return await self._run(scope, receive, send)
                    return await _answer(send, 413, "body_too_large", f"The body is larger than {cap} bytes.")
            elif key == b"transfer-encoding":
                has_body = True
        if not has_body:
            return await self._run(scope, receive, send)
        messages = await _whole_body(receive, cap)
        if messages is None:
            log.debug("client left while sending %s %r; nothing ran", scope["method"], path)
            return None
        if not service and sum(len(m.get("body", b"")) for m in messages) > cap:
            return await _answer(send, 413, "body_too_large", f"The body is larger than {cap} bytes.")
        pending = deque(messages)

        async def replay() -> Message:
            return pending.popleft() if pending else await receive()

        return await self._run(scope, replay, send)


async def _whole_body(receive: Receive, cap: int) -> list[Message] | None:
    """The body's messages, until its end or until past ``cap`` bytes; None if the client left
    before either."""
    messages: list[Message] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return None
        messages.append(message)
        size += len(message.get("body", b""))
        if not message.get("more_body") or size > cap:
            return messages


class _Cycle(Protocol):
    """What uvicorn's request cycle (its ``send``'s owner) is to us: it knows when the client
    has gone."""

    disconnected: bool


class DirectChunks:
    """The body of a chunked HTTP/1.1 answer, written chunk by chunk straight to uvicorn's
    transport: how the event stream's fan-out reaches every watcher with one write each, not a
    trip through the ASGI send chain. The answer's head and its end still go through ``send``.
    A reader that leaves the chunks waiting in the buffer for :data:`SEND_TIMEOUT` is closed,
    as ``send`` closes one."""

    __slots__ = ("_cycle", "_timer", "_transport")

    def __init__(self, cycle: _Cycle, transport: asyncio.WriteTransport) -> None:
        self._cycle = cycle
        self._transport = transport
        self._timer: asyncio.TimerHandle | None = None

    @classmethod
    def of(cls, scope: Scope, send: Send) -> DirectChunks | None:
        """For a GET over HTTP/1.1 served by uvicorn (whose request cycle holds its transport);
        None anywhere else, where the stream writes through ``send``."""
        if scope.get("http_version") != "1.1" or scope.get("method") != "GET":
            return None
        cycle: _Cycle | None = getattr(send, "__self__", None)
        transport = getattr(cycle, "transport", None)
        if cycle is None or not isinstance(transport, asyncio.WriteTransport):
            return None
        return cls(cycle, transport)

    @property
    def open(self) -> bool:
        return not (self._cycle.disconnected or self._transport.is_closing())

    def write(self, data: bytes) -> bool:
        if not self.open:
            return False
        transport = self._transport
        transport.write(b"%x\r\n%b\r\n" % (len(data), data))
        if self._timer is None and transport.get_write_buffer_size() > transport.get_write_buffer_limits()[1]:
            self._timer = asyncio.get_running_loop().call_later(SEND_TIMEOUT, self._check)
        return True

    def _check(self) -> None:
        self._timer = None
        transport = self._transport
        if self.open and transport.get_write_buffer_size() > transport.get_write_buffer_limits()[1]:
            log.info("closed an event stream whose client stopped reading")
            transport.abort()
            self._cycle.disconnected = True


def _with_deadline(send: Send, seconds: float) -> Send:
    """``send`` closing the connection when a write waits longer than ``seconds`` for room.
    Under uvicorn its transport is reached through ``send`` (the request cycle holds it);
    elsewhere ``send`` is left as it is."""
    cycle = getattr(send, "__self__", None)
    transport = getattr(cycle, "transport", None)
    if cycle is None or transport is None:
        return send
    loop = asyncio.get_running_loop()

    def stalled() -> None:
        log.info("closed an event stream whose client stopped reading")
        transport.abort()
        cycle.disconnected = True  # later writes are dropped, and the stream sees it leave

    async def timed(message: Message) -> None:
        timer = loop.call_later(seconds, stalled)
        try:
            await send(message)
        finally:
            timer.cancel()

    return timed


async def _answer(send: Send, status: int, error: str, details: str) -> None:
    body = json.dumps({"error": error, "details": details}).encode()
    await send({
        "type": "http.response.start",
        "status": status,
        "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
    })  # fmt: skip
    await send({"type": "http.response.body", "body": body})
