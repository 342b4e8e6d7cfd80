"""The FlexMatch side of the emulator: GameLift's matchmaking API over AWS JSON 1.1 and
Smithy RPC v2 CBOR, a matchmaker, acceptance timers, events and demo bots.

Modules:

- :mod:`.model`: the packaged GameLift service model, compiled into request checkers;
- :mod:`.service`: the one entry point of the operations (the only writer of FlexMatch state),
  put together from :mod:`.configurations` and :mod:`.matchmaking` (the operations),
  :mod:`.lifecycle`, :mod:`.matches` and :mod:`.placement` (how tickets and matches move),
  :mod:`.scheduler` and :mod:`.matchmaker` (what is due, and which tickets make a match);
- :mod:`.protocol`: the HTTP endpoints of both wire protocols;
- :mod:`.sigv4`: optional signature verification;
- :mod:`.notifications`: the EventBridge-shaped events;
- :mod:`.schema`, :mod:`.scenario`, :mod:`.bots`.
"""

from __future__ import annotations

import json
import logging

from typing import Annotated, Any

from fastapi import FastAPI, Query
from starlette.routing import Route

from lobby.emulator.flexmatch.bots import DemoBots
from lobby.emulator.flexmatch.errors import GameLiftError
from lobby.emulator.flexmatch.model import load_model
from lobby.emulator.flexmatch.notifications import report_detail
from lobby.emulator.flexmatch.protocol import CBOR_PATH, JSON_PATH, CborEndpoint, FastPath, JsonEndpoint
from lobby.emulator.flexmatch.scenario import FlexMatchScenario
from lobby.emulator.flexmatch.service import FlexMatchService
from lobby.emulator.flexmatch.sigv4 import SigV4Verifier, environment_credentials
from lobby.emulator.runtime import Runtime
from lobby.flexmatch.ruleset import TicketReport

__all__ = ["FastPath", "FlexMatchScenario", "FlexMatchService", "fast_path", "install"]

log = logging.getLogger("lobby.emulator.flexmatch")

#: Meta key listing the scenario resources already created, so each is seeded once per database
#: (and one deleted through the API is not brought back on the next start).
SEEDED_KEY = "flexmatch.seeded"


def install(app: FastAPI, runtime: Runtime, scenario: FlexMatchScenario) -> None:
    """Add this service's routes, schema, seed data and scheduled jobs to the emulator."""
    service = FlexMatchService(runtime, scenario, load_model())
    seed(service, scenario)
    verifier = None
    if runtime.config.verify_sigv4:
        verifier = SigV4Verifier(environment_credentials())
    # Plain ASGI routes, first in line: GameLift calls skip request objects and the matching
    # of every other route. (Served, they are reached even sooner: see fast_path.)
    json_endpoint = JsonEndpoint(service, verifier)
    cbor_endpoint = CborEndpoint(service, verifier)
    app.router.routes[0:0] = [
        Route(JSON_PATH, json_endpoint, methods=["POST"], include_in_schema=False),
        Route(CBOR_PATH, cbor_endpoint, methods=["POST"], include_in_schema=False),
    ]
    app.state.flexmatch_endpoints = (json_endpoint, cbor_endpoint)
    if runtime.config.bots:
        service.after_tick.append(DemoBots(service, scenario))
    runtime.add_ticker("flexmatch", service.tick)
    app.state.flexmatch = service

    @app.get(EXPLAIN_PATH, include_in_schema=False)
    def explain(ticketId: Annotated[list[str] | None, Query()] = None) -> dict[str, Any]:  # noqa: N803
        """Why each ticket named is still searching: :func:`explanation` for each."""
        return {"tickets": [explanation(service.scheduler.explain(t), t) for t in ticketId or ()]}


#: The emulator-only route that says why tickets are still searching (``?ticketId=`` repeated).
EXPLAIN_PATH = "/_emulator/flexmatch/explain"


def explanation(report: TicketReport | None, ticket_id: str) -> dict[str, Any]:
    """One ticket's entry: ``searching`` false when the matchmaker has nothing to say about it
    (not searching, or not looked at yet); else what :func:`.notifications.report_detail`
    says."""
    if report is None:
        return {"ticketId": ticket_id, "searching": False}
    return {"ticketId": ticket_id, "searching": True, **report_detail(report)}


def fast_path(app: FastAPI) -> FastPath:
    """``app`` (where :func:`install` ran) behind the direct dispatch of its GameLift routes."""
    return FastPath(app, *app.state.flexmatch_endpoints)


def seed(service: FlexMatchService, scenario: FlexMatchScenario) -> None:
    """Create the scenario's rule sets and configurations not created before in this database."""
    store = service.store
    with store.transaction():
        done = set(store.get_meta(SEEDED_KEY) or [])
        work = [
            (
                f"ruleset:{r.name}",
                "CreateMatchmakingRuleSet",
                {"Name": r.name, "RuleSetBody": json.dumps(r.body, indent=2)},
            )
            for r in scenario.rule_sets
        ] + [
            (f"configuration:{c.name}", "CreateMatchmakingConfiguration", c.create_request())
            for c in scenario.configurations
        ]
        for key, operation, params in work:
            if key in done:
                continue
            try:
                service.invoke(operation, params)
            except GameLiftError as exc:
                log.warning("scenario item %s not created: %s", key, exc.message)
            done.add(key)
        store.set_meta(SEEDED_KEY, sorted(done))
