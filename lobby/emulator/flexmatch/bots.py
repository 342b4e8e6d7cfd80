"""Demo bots: a lobby that lives on its own, with offers for the human captain to answer.

Run only when the emulator is started with bots on. They act exclusively through
:meth:`FlexMatchService.invoke`, like any API client, so their requests are checked and
reported exactly like a person's.

- Bot tickets: every ``queue_every_seconds`` (a random pause in that range) one party of idle
  bot players, of a size drawn from ``party_sizes``, is queued into one of the bot
  configurations.
- Bot answers: a bot player offered a match answers after a random delay in
  ``accept_delay_seconds`` from the proposal, rejecting with ``reject_probability``.
- Human parties: once none of a party's players has an active ticket, and
  ``human_requeue_seconds`` have passed since their last ticket ended, the party is queued
  into its next configuration. Bots never answer for human players.

Nothing is random at the time of acting: each decision is drawn from a generator seeded with
the scenario seed and what the decision is about (ticket, player, round, or a persisted
counter), so the same seed and the same clock give the same lobby, also across restarts.
"""

from __future__ import annotations

import logging
import random
import zlib
from typing import Any, TypedDict

from lobby.emulator.flexmatch.errors import GameLiftError
from lobby.flexmatch.ruleset import RuleSet
from lobby.emulator.flexmatch.scenario import FlexMatchScenario
from lobby.emulator.flexmatch.service import FlexMatchService

log = logging.getLogger("lobby.emulator.flexmatch")

STATE_KEY = "flexmatch.bots"


#: Players who have not answered an open proposal yet: from the open proposals (a partial
#: index), not a scan of every ticket ever made.
PENDING_ANSWERS = (
    "SELECT t.ticket_id, t.rounds, p.player_id, m.proposed_at FROM fm_matches m"
    " JOIN fm_tickets t ON t.match_id = m.match_id"
    " JOIN fm_ticket_players p ON p.ticket_id = t.ticket_id"
    " WHERE m.status = 'PROPOSED' AND t.status = 'REQUIRES_ACCEPTANCE' AND p.answer IS NULL"
)


class _State(TypedDict):
    """What the bots keep between runs (in the store's meta table)."""

    next: float | None  # when the next bot party is queued
    count: int  # bot parties queued so far
    parties: dict[str, int]  # human party (its index) -> tickets it was queued with


class DemoBots:
    def __init__(self, service: FlexMatchService, scenario: FlexMatchScenario) -> None:
        self.service = service
        self.store = service.store
        self.scenario = scenario
        self.behaviour = scenario.bots
        self.seed = scenario.seed
        self.bot_ids = self.behaviour.player_ids
        self._bots = frozenset(self.bot_ids)
        self.bot_configs = self.behaviour.configurations or [
            c.name for c in scenario.configurations
        ]

    def __call__(self, now: float) -> float | None:
        due: list[float | None] = []
        due.append(self._answer(now))
        due.append(self._queue_bots(now))
        due.extend(self._queue_humans(now))
        times = [t for t in due if t is not None]
        return min(times) if times else None

    # --- answers ---------------------------------------------------------------------------------

    def _answer(self, now: float) -> float | None:
        rows = self.store.query(PENDING_ANSWERS)
        lo, hi = self.behaviour.accept_delay_seconds
        pending = []
        for ticket_id, rounds, player_id, proposed_at in rows:
            if player_id not in self._bots:
                continue
            rng = random.Random(f"{self.seed}:answer:{ticket_id}:{player_id}:{rounds}")
            delay = rng.uniform(lo, hi)
            reject = rng.random() < self.behaviour.reject_probability
            pending.append((proposed_at + delay, ticket_id, player_id, reject))
        pending.sort()
        later = None
        for when, ticket_id, player_id, reject in pending:
            if when > now:
                later = when if later is None else min(later, when)
                continue
            self._call(
                "AcceptMatch",
                {
                    "TicketId": ticket_id,
                    "PlayerIds": [player_id],
                    "AcceptanceType": "REJECT" if reject else "ACCEPT",
                },
            )
        return later

    # --- queueing --------------------------------------------------------------------------------

    def _state(self) -> _State:
        stored: _State | None = self.store.get_meta(STATE_KEY)
        return stored or {"next": None, "count": 0, "parties": {}}

    def _busy_players(self) -> set[str]:
        return {r[0] for r in self.store.query("SELECT player_id FROM fm_ticket_players WHERE active=1")}

    def _queue_bots(self, now: float) -> float | None:
        if not self.bot_ids or not self.bot_configs:
            return None
        state = self._state()
        lo, hi = self.behaviour.queue_every_seconds
        # (A far-away "next" means the clock was set back, e.g. a restart after time travel.)
        if state["next"] is not None and now < state["next"] <= now + hi + 1:
            return state["next"]
        count = state["count"]
        rng = random.Random(f"{self.seed}:queue:{count}")
        config = rng.choice(self.bot_configs)
        size = rng.choice(self.behaviour.party_sizes)
        rule_set = self._rule_set_of(config)
        if rule_set is not None:
            size = min(size, rule_set.largest_team)
        busy = self._busy_players()
        idle = [b for b in self.bot_ids if b not in busy]
        pause = rng.uniform(lo, hi)
        if len(idle) >= size and rule_set is not None:
            party = rng.sample(idle, size)
            self._call(
                "StartMatchmaking",
                {
                    "TicketId": f"bot-{self.seed}-{count + 1:06d}",
                    "ConfigurationName": config,
                    "Players": [demo_player(p) for p in party],
                },
            )
        state["count"] = count + 1
        state["next"] = now + max(pause, 0.05)
        self.store.set_meta(STATE_KEY, state)
        return state["next"]

    def _queue_humans(self, now: float) -> list[float | None]:
        parties = self.scenario.human_parties
        if not parties:
            return []
        busy = self._busy_players()
        state = self._state()
        out: list[float | None] = []
        for index, party in enumerate(parties):
            if busy.intersection(party.players):
                continue
            marks = ",".join("?" * len(party.players))
            row = self.store.query_one(
                "SELECT MAX(t.end_time) FROM fm_tickets t JOIN fm_ticket_players p"
                f" ON p.ticket_id = t.ticket_id WHERE p.player_id IN ({marks})",
                party.players,
            )
            ended = row[0] if row else None
            due = now if ended is None else ended + self.behaviour.human_requeue_seconds
            if due > now:
                out.append(due)
                continue
            turn = state["parties"].get(str(index), 0)
            config = party.configurations[turn % len(party.configurations)]
            self._call(
                "StartMatchmaking",
                {
                    "TicketId": f"party-{index + 1}-{self.seed}-{turn + 1:06d}",
                    "ConfigurationName": config,
                    "Players": [demo_player(p, human=True) for p in party.players],
                },
            )
            state = self._state()
            state["parties"][str(index)] = turn + 1
            self.store.set_meta(STATE_KEY, state)
        return out

    # --- helpers ---------------------------------------------------------------------------------

    def _rule_set_of(self, config_name: str) -> RuleSet | None:
        config = self.service.catalog.configuration(config_name)
        return None if config is None else self.service.catalog.rule_set(config.rule_set_name)

    def _call(self, operation: str, params: dict[str, Any]) -> None:
        try:
            self.service.invoke(operation, params)
        except GameLiftError as exc:  # the lobby moved on (a round ended, a name was taken)
            log.debug("bot %s refused: %s", operation, exc.message)


#: The regions demo players report latencies to.
DEMO_REGIONS = ("us-east-1", "us-west-2")


#: Skill and latency (ms) ranges of demo bots: wide, so the demo's skill and latency rules let
#: matches form at once, wait for an expansion, and sometimes not form at all (a bot over every
#: region's loosest maxLatency never matches).
BOT_SKILL, BOT_LATENCY = (600, 1800), (20, 180)
#: The captain's own players: mid-table skill and a good connection, so their tickets match
#: (after an expansion at worst) and the console has offers to answer.
HUMAN_SKILL, HUMAN_LATENCY = (1100, 1300), (30, 70)


def demo_player(player_id: str, *, human: bool = False) -> dict[str, Any]:
    """A demo player with a skill and latencies per region fixed by its id (see
    :data:`BOT_SKILL` and :data:`HUMAN_SKILL`)."""
    rng = random.Random(zlib.crc32(player_id.encode("utf-8")))
    skill, latency = (HUMAN_SKILL, HUMAN_LATENCY) if human else (BOT_SKILL, BOT_LATENCY)
    return {
        "PlayerId": player_id,
        "PlayerAttributes": {"skill": {"N": float(rng.randint(*skill))}},
        "LatencyInMs": {region: rng.randint(*latency) for region in DEMO_REGIONS},
    }
