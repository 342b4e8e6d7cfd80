"""Fault injection: the emulator answers some service calls the way a bad day on the network does.

Kinds (``KINDS``):

- ``500``: an internal error in the service's own error shape (FlexMatch
  ``InternalServiceException``; TeamBattles ``error_internal``);
- ``503``: the service is unavailable (FlexMatch ``ServiceUnavailableException``; TeamBattles
  ``error_internal`` with HTTP 503);
- ``throttle``: FlexMatch ``ThrottlingException`` "Rate exceeded" with HTTP 400, as GameLift
  sends it (JSON 1.1 body, or the CBOR map of RPC v2); TeamBattles HTTP 429
  ``error_api_rate_limited`` with ``Retry-After`` and the ``X-RateLimit-*`` headers;
- ``slow``: the real answer, ``delaySeconds`` late;
- ``drop``: the connection is closed and no answer is sent at all.

Each fault happens either **before** the request is executed (nothing changed on the server) or
**after** it was executed and committed (the change stands, its answer is lost or late). A
throttle is always *before*: a throttled request is refused, never run. For every other kind the
phase is drawn from the same seeded stream: *after* with probability ``afterShare``. An *after*
500/503 or drop is what an exactly-once client must survive: it has to retry without applying
the change twice.

Which calls are hit: GameLift's POSTs (JSON 1.1 at ``/`` and RPC v2 CBOR at
``/service/GameLift/operation/<Op>``) and every TeamBattles ``/api/v1`` route; never the
emulator's own ``/_emulator/*`` routes. The layer sits outermost, around what uvicorn serves
(GameLift's fast path included), so nothing reaches a handler without passing it.

Determinism: one ``random.Random(seed)`` decides, in the order the calls arrive, whether a call
is hit, by which kind and in which phase (three draws per call). The same seed and the same
order of calls give the same faults; without a seed one is picked and reported by
``GET /_emulator/faults`` so a run can be repeated. ``services`` and ``methods`` narrow which
calls take part (calls left out draw nothing from the stream).

Control: ``lobby emulator --faults RATE[,KIND...] --fault-seed N --fault-delay S`` at start;
``GET /_emulator/faults`` shows the settings and what was injected so far (by kind and phase,
and the latest calls hit); ``PUT`` or ``POST`` with a JSON body sets them (and starts the
counters and the seeded stream afresh); ``DELETE`` turns injection off (the counters stay
readable).
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import threading
import uuid
from collections import deque
from dataclasses import dataclass
from typing import Any, Literal

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from lobby.emulator.flexmatch.errors import (
    GameLiftError,
    InternalServiceException,
    ServiceUnavailableException,
    ThrottlingException,
)
from lobby.emulator.flexmatch.protocol import error_answer
from lobby.teambattles.vocab import ErrorCode as E

log = logging.getLogger("lobby.emulator.faults")

Kind = Literal["500", "503", "throttle", "slow", "drop"]
KINDS: tuple[Kind, ...] = ("500", "503", "throttle", "slow", "drop")
Service = Literal["flexmatch", "teambattles"]
Method = Literal["GET", "POST", "PUT", "PATCH", "DELETE"]
SERVICES: tuple[Service, ...] = ("flexmatch", "teambattles")
BEFORE = "before"
AFTER = "after"

FAULT_HEADER = b"x-emulator-fault"
_TEAMBATTLES_PREFIX = "/api/v1"
#: How many of the latest faults GET /_emulator/faults lists.
RECENT = 200


class FaultSettings(BaseModel):
    """What to inject. On the wire (the control route) the names are camelCase."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    rate: float = Field(default=0.0, ge=0.0, le=1.0, description="Share of calls hit.")
    kinds: tuple[Kind, ...] = Field(default=KINDS, min_length=1)
    seed: int | None = Field(default=None, ge=0, le=2**63 - 1)
    delay_seconds: float = Field(default=0.5, ge=0.0, le=60.0, alias="delaySeconds")
    after_share: float = Field(default=0.5, ge=0.0, le=1.0, alias="afterShare")
    retry_after_seconds: int = Field(default=1, ge=0, le=3600, alias="retryAfterSeconds")
    services: tuple[Service, ...] = Field(default=SERVICES, min_length=1)
    #: Only calls with these HTTP methods are hit; empty: every method.
    methods: tuple[Method, ...] = ()

    @field_validator("kinds", "services", "methods", mode="after")
    @classmethod
    def _unique(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(dict.fromkeys(value))

    def wire(self) -> dict[str, Any]:
        return {
            "rate": self.rate,
            "kinds": list(self.kinds),
            "seed": self.seed,
            "delaySeconds": self.delay_seconds,
            "afterShare": self.after_share,
            "retryAfterSeconds": self.retry_after_seconds,
            "services": list(self.services),
            "methods": list(self.methods),
        }


class FaultError(ValueError):
    """Settings that cannot be used; the message is one plain sentence."""


def parse_settings(data: Any) -> FaultSettings:
    """Settings from a JSON document (the control route's body), or :class:`FaultError`."""
    if not isinstance(data, dict):
        raise FaultError("Send a JSON object, e.g. {\"rate\": 0.3, \"seed\": 7}.")
    try:
        return FaultSettings.model_validate(data)
    except ValidationError as exc:
        raise FaultError(_first_problem(exc)) from None


def parse_flag(text: str) -> tuple[float, tuple[str, ...]]:
    """``RATE[,KIND...]`` (the ``--faults`` flag) as a rate and the kinds (all when none)."""
    parts = [p.strip() for p in text.split(",") if p.strip()]
    if not parts:
        raise FaultError("--faults needs a rate between 0 and 1, e.g. --faults 0.3.")
    try:
        rate = float(parts[0])
    except ValueError:
        raise FaultError(f"--faults: {parts[0]!r} is not a rate between 0 and 1.") from None
    if not 0.0 <= rate <= 1.0:
        raise FaultError(f"--faults: the rate must be between 0 and 1, not {parts[0]}.")
    kinds = tuple(parts[1:]) or KINDS
    unknown = [k for k in kinds if k not in KINDS]
    if unknown:
        raise FaultError(f"--faults: unknown kind {unknown[0]!r}; use {', '.join(KINDS)}.")
    return rate, kinds


def _first_problem(exc: ValidationError) -> str:
    first = exc.errors()[0]
    where = ".".join(str(p) for p in first["loc"]) or "(body)"
    return f"{where}: {first['msg']}."


@dataclass(frozen=True, slots=True)
class Fault:
    kind: str
    phase: str
    service: str

    def header(self) -> tuple[bytes, bytes]:
        """The header that marks an answer this fault struck."""
        return FAULT_HEADER, f"{self.kind}; phase={self.phase}".encode()


class FaultInjector:
    """The settings, the seeded stream of decisions and the counters. Thread-safe: the control
    route and the served calls share it (and tests read it from another thread)."""

    def __init__(self, settings: FaultSettings | None = None, *, rate_limit: int = 300) -> None:
        self._lock = threading.Lock()
        #: X-RateLimit-Limit of an injected TeamBattles 429.
        self.rate_limit = rate_limit
        self.configure(settings or FaultSettings())

    def configure(self, settings: FaultSettings) -> None:
        """New settings; the seeded stream and the counters start again."""
        seed = settings.seed if settings.seed is not None else random.SystemRandom().randrange(2**63)
        with self._lock:
            self.settings = settings
            self.seed = seed
            self._rng = random.Random(seed)
            self.calls = dict.fromkeys(SERVICES, 0)
            self.injected = {k: {BEFORE: 0, AFTER: 0} for k in KINDS}
            self.recent: deque[dict[str, Any]] = deque(maxlen=RECENT)
            self._count = 0

    def clear(self) -> None:
        """No more faults; what was counted stays readable."""
        with self._lock:
            self.settings = self.settings.model_copy(update={"rate": 0.0})

    def decide(self, service: str, method: str, path: str) -> Fault | None:
        with self._lock:
            settings = self.settings
            if settings.rate <= 0.0 or service not in settings.services:
                return None
            if settings.methods and method not in settings.methods:
                return None
            self.calls[service] += 1
            rng = self._rng
            hit = rng.random() < settings.rate
            kind = settings.kinds[rng.randrange(len(settings.kinds))]
            after = rng.random() < settings.after_share
            if not hit:
                return None
            phase = BEFORE if kind == "throttle" or not after else AFTER
            self.injected[kind][phase] += 1
            self._count += 1
            self.recent.append(
                {"n": self._count, "service": service, "method": method, "path": path,
                 "kind": kind, "phase": phase}
            )  # fmt: skip
        log.info("fault %s (%s) on %s %r", kind, phase, method, path)
        return Fault(kind, phase, service)

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            injected = {k: dict(v) for k, v in self.injected.items()}
            return {
                **self.settings.wire(),
                "seedInUse": self.seed,
                "enabled": self.settings.rate > 0.0,
                "calls": dict(self.calls),
                "injected": injected,
                "total": sum(sum(v.values()) for v in injected.values()),
                "recent": list(self.recent),
            }


# --- the ASGI layer ---------------------------------------------------------------------------


def _service_of(scope: Scope) -> str | None:
    path = scope["path"]
    if path == _TEAMBATTLES_PREFIX or path.startswith(_TEAMBATTLES_PREFIX + "/"):
        return "teambattles"
    if scope["method"] == "POST" and (path == "/" or path.startswith("/service/")):
        return "flexmatch"
    return None


class FaultLayer:
    """Wraps the served ASGI app; passes everything through unless the injector picks a call."""

    __slots__ = ("app", "injector")

    def __init__(self, app: ASGIApp, injector: FaultInjector) -> None:
        self.app = app
        self.injector = injector

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self.injector.settings.rate <= 0.0:  # off: no cost
            return await self.app(scope, receive, send)
        service = _service_of(scope)
        if service is None:
            return await self.app(scope, receive, send)
        fault = self.injector.decide(service, scope["method"], scope["path"])
        if fault is None:
            return await self.app(scope, receive, send)
        delay = self.injector.settings.delay_seconds
        if fault.phase == BEFORE:
            if fault.kind == "slow":
                await asyncio.sleep(delay)
                return await self.app(scope, receive, _marked(send, fault))
            await _drain(receive)
            if fault.kind == "drop":
                return await _drop(send)
            return await self._answer(scope, send, fault)
        # After: the call runs and commits; its answer is held back, then lost or late.
        held: list[Message] = []

        async def hold(message: Message) -> None:
            held.append(message)

        await self.app(scope, receive, hold)
        if fault.kind == "slow":
            await asyncio.sleep(delay)
            marked = _marked(send, fault)
            for message in held:
                await marked(message)
            return None
        if fault.kind == "drop":
            return await _drop(send)
        return await self._answer(scope, send, fault)

    async def _answer(self, scope: Scope, send: Send, fault: Fault) -> None:
        status, body, headers = _error_answer(
            scope["path"], fault, self.injector.settings.retry_after_seconds, self.injector.rate_limit
        )
        headers.append(fault.header())
        headers.append((b"content-length", str(len(body)).encode()))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})


def _marked(send: Send, fault: Fault) -> Send:
    """``send`` adding the fault header to the start of the answer."""

    async def marked(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = list(message.get("headers", []))
            headers.append(fault.header())
            message = {**message, "headers": headers}
        await send(message)

    return marked


async def _drain(receive: Receive) -> None:
    """Read the request body, so the connection is left in a clean state."""
    while True:
        message = await receive()
        if message["type"] != "http.request" or not message.get("more_body"):
            return


async def _drop(send: Send) -> None:
    """Close the connection without a word. Under uvicorn the transport is reached through its
    ``send`` (the request cycle holds it); anywhere else the call fails as a broken connection."""
    cycle = getattr(send, "__self__", None)
    transport = getattr(cycle, "transport", None)
    if transport is None:
        raise ConnectionResetError("the emulator dropped the connection (fault injection)")
    transport.abort()
    # Let the server see the connection go, so it does not try to answer on it.
    for _ in range(5):
        if getattr(cycle, "disconnected", True):
            break
        await asyncio.sleep(0)
    if cycle is not None and hasattr(cycle, "disconnected"):
        cycle.disconnected = True


_FLEXMATCH_ERRORS: dict[str, tuple[type[GameLiftError], str]] = {
    "500": (InternalServiceException, "The service encountered an internal error; try again."),
    "503": (ServiceUnavailableException, "The service is temporarily unavailable; try again."),
    "throttle": (ThrottlingException, "Rate exceeded"),
}
_TEAMBATTLES_ERRORS = {
    "500": (500, E.INTERNAL, "The service failed while handling the request; try again."),
    "503": (503, E.INTERNAL, "The service is temporarily unavailable; try again."),
    "throttle": (429, E.API_RATE_LIMITED, "Too many requests for this API key; slow down."),
}


def _error_answer(
    path: str, fault: Fault, retry_after: int, rate_limit: int
) -> tuple[int, bytes, list[tuple[bytes, bytes]]]:
    request_id = str(uuid.uuid4()).encode()
    if fault.service == "teambattles":
        status, code, details = _TEAMBATTLES_ERRORS[fault.kind]
        body = json.dumps({"error": code, "details": details}).encode()
        headers = [(b"content-type", b"application/json")]
        if fault.kind == "throttle":
            headers += [
                (b"retry-after", str(retry_after).encode()),
                (b"x-ratelimit-limit", str(rate_limit).encode()),
                (b"x-ratelimit-remaining", b"0"),
                (b"x-ratelimit-reset", str(retry_after).encode()),
            ]
        return status, body, headers
    error, message = _FLEXMATCH_ERRORS[fault.kind]
    return error_answer(error(message), request_id, cbor=path.startswith("/service/"))


# --- the control route ------------------------------------------------------------------------


def install(app: FastAPI, injector: FaultInjector) -> None:
    """``/_emulator/faults``: GET shows, PUT/POST sets, DELETE turns injection off."""
    app.state.faults = injector

    @app.get("/_emulator/faults", include_in_schema=False)
    async def show_faults() -> dict[str, Any]:
        return injector.snapshot()

    async def set_faults(request: Request) -> Any:
        raw = await request.body()
        try:
            data = json.loads(raw) if raw.strip() else {}
        except (ValueError, UnicodeDecodeError, RecursionError):
            return _bad("The body is not JSON; send e.g. {\"rate\": 0.3, \"seed\": 7}.")
        try:
            settings = parse_settings(data)
        except FaultError as exc:
            return _bad(str(exc))
        injector.configure(settings)
        return injector.snapshot()

    app.add_api_route("/_emulator/faults", set_faults, methods=["PUT", "POST"], include_in_schema=False)

    @app.delete("/_emulator/faults", include_in_schema=False)
    async def clear_faults() -> dict[str, Any]:
        injector.clear()
        return injector.snapshot()


def _bad(details: str) -> JSONResponse:
    return JSONResponse({"error": "bad_request", "details": details}, status_code=400)
