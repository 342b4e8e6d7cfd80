"""The emulator's ASGI application: FlexMatch, TeamBattles and the /_emulator control routes."""

from __future__ import annotations

from email.utils import formatdate

import asyncio
import contextlib
from collections.abc import AsyncIterator

from starlette.types import ASGIApp, Message, Receive, Scope, Send
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, StreamingResponse
from starlette.responses import Response

from lobby import __version__
from lobby.core.clock import Clock, OffsetClock
from lobby.emulator import faults, flexmatch, teambattles
from lobby.core.events import EVENTS_PATH, HEALTH_PATH, INSTANCE_HEADER, EventSource
from lobby.emulator.events import MAX_EVENT_ID, Event
from lobby.emulator.guard import Guard, is_loopback, new_token, public_event
from lobby.emulator.runtime import EmulatorConfig, Runtime
from lobby.emulator.scenario import Scenario, load_scenario


def create_app(config: EmulatorConfig, *, clock: Clock | None = None) -> FastAPI:
    """Build the emulator. With ``config.time_travel`` and no clock given, the clock is an
    :class:`OffsetClock` that ``POST /_emulator/clock`` can move forward."""
    if clock is None and config.time_travel:
        clock = OffsetClock()
    runtime = Runtime.open(config, clock)
    scenario = load_scenario(config.scenario)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        runtime.stopping.clear()
        task = asyncio.create_task(runtime.run_scheduler(), name="emulator-scheduler")
        try:
            yield
        finally:
            runtime.stopping.set()
            runtime.poke()
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    app = FastAPI(
        title="lobby emulator",
        version=__version__,
        lifespan=lifespan,
        docs_url="/_emulator/docs",
        redoc_url=None,
        openapi_url="/_emulator/openapi.json",
    )
    app.state.runtime = runtime
    token = config.control_token.get_secret_value() if config.control_token else None
    if token is None and not is_loopback(config.public_host):
        token = new_token()
    #: The control token; None: the control plane is open (the emulator listens on loopback).
    app.state.control_token = token
    _install_control_routes(app, runtime, scenario)
    faults.install(app, _fault_injector(config, scenario))
    flexmatch.install(app, runtime, scenario.flexmatch)
    teambattles.install(app, runtime, scenario.teambattles)
    return app


class ServerDate:
    """Every answer's ``Date`` header is the emulator's own time, which tests may move, not the
    host's: clients measure the service's clock from it."""

    def __init__(self, app: ASGIApp, clock: Clock) -> None:
        self.app = app
        self.clock = clock

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"date"]
                headers.append((b"date", formatdate(self.clock.timestamp(), usegmt=True).encode()))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, sending)


def serving_app(app: FastAPI) -> Guard:
    """What uvicorn serves for an app from :func:`create_app`: the app itself, with GameLift's
    POST routes dispatched ahead of FastAPI's middleware stack, behind fault injection (which
    passes every call through untouched unless faults are turned on), all behind the guard
    (body caps, whole bodies only, the control token); the app's answers are dated by the
    emulator's clock."""
    # Innermost, so the layers around it keep uvicorn's own ``send`` (they reach the transport
    # through it to drop or close a connection); their own refusals carry no Date.
    dated = ServerDate(flexmatch.fast_path(app), app.state.runtime.clock)
    return Guard(faults.FaultLayer(dated, app.state.faults), app.state.control_token)


def _fault_injector(config: EmulatorConfig, scenario: Scenario) -> faults.FaultInjector:
    settings = faults.FaultSettings(
        rate=config.fault_rate,
        kinds=config.fault_kinds,
        seed=config.fault_seed,
        delay_seconds=config.fault_delay,
        after_share=config.fault_after_share,
    )
    return faults.FaultInjector(settings, rate_limit=scenario.teambattles.effective_rate_limits.ip.burst)


def _bad_request(error: str, details: str) -> JSONResponse:
    return JSONResponse({"error": error, "details": details}, status_code=400)


def _event_id(text: str) -> int | None:
    """An event id as a client may send it (0 .. 2**63-1, in plain digits), else None."""
    text = text.strip()
    if not text.isascii() or not text.isdigit() or len(text) > 19:
        return None
    value = int(text)
    return value if value <= MAX_EVENT_ID else None


def _install_control_routes(app: FastAPI, runtime: Runtime, scenario: Scenario) -> None:
    signed = runtime.config.verify_sigv4

    def anonymous(event: Event) -> bool:
        return public_event(event, signed=signed)

    @app.get(HEALTH_PATH, include_in_schema=False)
    async def health() -> dict[str, object]:
        return {
            "ok": True,
            "version": __version__,
            "time": runtime.clock.timestamp(),
            "lastEventId": runtime.events.last_id(),
            "instance": runtime.events.instance,
            # Null, or the TeamBattles buckets a scenario raised above the service's own.
            "raisedRateLimits": scenario.teambattles.raised_limits_health(),
        }

    @app.get(EVENTS_PATH, include_in_schema=False, response_model=None)
    async def events(request: Request) -> Response:
        """Server-Sent Events: every event after ``Last-Event-ID`` (or ``?after=``), of this
        database instance; a client naming another instance (``X-Emulator-Instance``) gets
        them all from the first."""
        start = 0
        after = request.query_params.get("after")
        if after is not None:
            found = _event_id(after)
            if found is None:
                return _bad_request("bad_after", f"after must be an event id, 0 to {MAX_EVENT_ID}.")
            start = found
        header = request.headers.get("last-event-id")
        if header is not None:
            found = _event_id(header)
            if found is None:
                return _bad_request(
                    "bad_last_event_id", f"Last-Event-ID must be an integer, 0 to {MAX_EVENT_ID}."
                )
            start = found
        instance = runtime.events.instance
        known = request.headers.get(INSTANCE_HEADER) or request.query_params.get("instance")
        if known is not None and known != instance:
            start = 0  # the id counted another database's events
        sources = None
        source = request.query_params.get("source")
        if source is not None:
            sources = [s for s in source.split(",") if s]
            unknown = set(sources) - set(EventSource)
            if unknown:
                return _bad_request(
                    "bad_source",
                    f"Unknown source {sorted(unknown)[0]!r}; use "
                    f"{EventSource.GAMELIFT.value} or {EventSource.TEAMBATTLES.value}.",
                )
        state = request.scope.get("state", {})
        control = state.get("control", True)
        body = runtime.events.stream(
            start,
            sources=sources,
            stopping=runtime.stopping,
            visible=None if control else anonymous,
            connection=state.get("connection"),
        )
        return StreamingResponse(
            body,
            media_type="text/event-stream",
            headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no", INSTANCE_HEADER: instance},
        )

    @app.post("/_emulator/clock", include_in_schema=False, response_model=None)
    async def advance_clock(request: Request) -> JSONResponse | dict[str, float]:
        """Move the emulator's clock forward: {"advanceSeconds": N}. Only with time travel."""
        clock = runtime.clock
        if not runtime.config.time_travel or not hasattr(clock, "advance"):
            return JSONResponse(
                {"error": "time_travel_disabled", "details": "Start the emulator with --time-travel."},
                status_code=403,
            )
        try:
            body = await request.json()
            seconds = float(body["advanceSeconds"])
        except Exception:
            return JSONResponse(
                {"error": "bad_request", "details": 'Send {"advanceSeconds": <number >= 0>}.'},
                status_code=400,
            )
        if not 0 <= seconds <= 86400 * 7:
            return JSONResponse(
                {"error": "bad_request", "details": "advanceSeconds must be between 0 and 604800."},
                status_code=400,
            )
        clock.advance(seconds)
        # Let the jobs catch up before answering, so the caller sees the consequences.
        runtime.run_due()
        runtime.poke()
        return {"time": clock.timestamp()}
