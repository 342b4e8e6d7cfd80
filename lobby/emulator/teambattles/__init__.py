"""The TeamBattles side of the emulator: the /api/v1 routes of the published contract, API keys,
rate limits, idempotency, the match and acceptance life cycle, its events, and demo bots.

Keys come from the scenario and only work here (they start with ``tb_test_``, never
``tb_live_``). ``lobby demo-keys`` lists the demo's keys with their owner, kind, plan, scopes and
expiry; ``lobby demo-keys --json`` prints the same for scripts.

Events on ``/_emulator/events`` (source ``teambattles``) are shaped like the service's webhooks,
``{"id", "event", "created_at", "data": {"match": <ApiMatchDetail>, ...}}``: match.created,
match.published, match.accepted, roster.updated, match.cancelled and match.started, plus the
emulator's own ``emulator.acceptance.created|declined|superseded|cancelled`` and
``emulator.challenge.accepted|refused`` (the service sends no webhook for those), whose ``data``
also carries the ``acceptance`` or the answering ``teamId``.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI

from lobby.emulator.runtime import Runtime
from lobby.emulator.teambattles import db, idempotency
from lobby.emulator.teambattles.bots import Bots
from lobby.emulator.teambattles.idempotency import TTL_SECONDS
from lobby.emulator.teambattles.ratelimit import RateLimiter
from lobby.emulator.teambattles.routes import Api, register
from lobby.emulator.teambattles.scenario import TeamBattlesScenario
from lobby.emulator.teambattles.service import TeamBattles

__all__ = ["TeamBattles", "TeamBattlesScenario", "install"]

_PURGE_EVERY = 3600.0

log = logging.getLogger(__name__)


def install(app: FastAPI, runtime: Runtime, scenario: TeamBattlesScenario) -> None:
    """Add this service's routes, schema, seed data and scheduled jobs to the emulator."""
    db.migrate(runtime.store)
    fresh = db.seed(runtime.store, scenario, runtime.clock.timestamp())
    service = TeamBattles(runtime, scenario)
    if fresh:
        service.webhooks.announce_seeded([match.id for match in scenario.matches])
    notice = scenario.raised_limits_notice()
    if notice is not None:
        log.warning("%s", notice)
    api = Api(runtime, service, RateLimiter(scenario.effective_rate_limits))
    register(app, api)
    app.state.teambattles = service

    runtime.add_ticker("teambattles.schedule", service.matches.tick)

    def purge(now: float) -> float:
        idempotency.purge(runtime.store, now, TTL_SECONDS)
        return now + _PURGE_EVERY

    runtime.add_ticker("teambattles.idempotency", purge)
    if runtime.config.bots and scenario.bots:
        runtime.add_ticker("teambattles.bots", Bots(service, scenario).tick)
