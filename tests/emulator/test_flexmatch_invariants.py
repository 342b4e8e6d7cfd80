"""Random FlexMatch lives keep the lifecycle's invariants.

The service is driven directly (no server thread, a frozen clock) through the same
:meth:`invoke` the HTTP endpoints use, with random starts, answers, stops, configuration
changes and clock jumps; after every step the database must still tell one consistent story.
"""

from __future__ import annotations

import json
import logging
import random

import pytest

from lobby.core.clock import FrozenClock
from lobby.emulator.app import create_app
from lobby.emulator.flexmatch.errors import GameLiftError
from lobby.emulator.runtime import EmulatorConfig
from lobby.flexmatch.lifecycle import TicketStatus

ACTIVE = "('QUEUED','SEARCHING','REQUIRES_ACCEPTANCE','PLACING')"


def check(runtime, service) -> None:
    store = runtime.store
    for ticket_id, status, match_id in store.query("SELECT ticket_id, status, match_id FROM fm_tickets"):
        if TicketStatus(status) is TicketStatus.REQUIRES_ACCEPTANCE:
            match = store.query_one("SELECT status FROM fm_matches WHERE match_id=?", (match_id,))
            assert match is not None and match[0] == "PROPOSED", ticket_id
    doubles = store.query(
        "SELECT p.player_id FROM fm_ticket_players p JOIN fm_tickets t ON t.ticket_id = p.ticket_id"
        f" WHERE t.status IN {ACTIVE} GROUP BY p.player_id HAVING COUNT(*) > 1"
    )
    assert doubles == [], "a player has two active tickets"
    stale = store.query_one(
        "SELECT COUNT(*) FROM fm_ticket_players p JOIN fm_tickets t ON t.ticket_id = p.ticket_id"
        f" WHERE (p.active = 1) != (t.status IN {ACTIVE})"
    )
    assert stale[0] == 0, "a player's active flag disagrees with the ticket status"
    for proposal in service.rounds.by_match.values():  # the in-memory rounds mirror the database
        for player_id, (ticket_id, answer, _) in proposal.players.items():
            row = store.query_one(
                "SELECT answer FROM fm_ticket_players WHERE ticket_id=? AND player_id=?",
                (ticket_id, player_id),
            )
            assert (row[0] or "PENDING") == answer.value


@pytest.mark.parametrize("seed", range(6))
def test_random_lives_keep_the_invariants(seed, caplog):
    rnd = random.Random(seed)
    app = create_app(
        EmulatorConfig(time_travel=True, bots=seed % 2 == 1), clock=FrozenClock(1.7e9)
    )
    runtime, service = app.state.runtime, app.state.flexmatch
    teams = [{"name": "a", "minPlayers": 1, "maxPlayers": 3}, {"name": "b", "minPlayers": 2, "maxPlayers": 3}]
    service.invoke(
        "CreateMatchmakingRuleSet",
        {"Name": "mixed", "RuleSetBody": json.dumps({"ruleLanguageVersion": "1.0", "teams": teams})},
    )
    for name, acceptance, mode in [("x", True, "WITH_QUEUE"), ("y", False, "WITH_QUEUE"), ("z", True, "STANDALONE")]:
        params = {
            "Name": name, "RuleSetName": "mixed", "AcceptanceRequired": acceptance,
            "RequestTimeoutSeconds": rnd.randint(5, 100), "FlexMatchMode": mode,
        }  # fmt: skip
        if acceptance:
            params["AcceptanceTimeoutSeconds"] = rnd.randint(1, 30)
        service.invoke("CreateMatchmakingConfiguration", params)
    players = [f"p{i}" for i in range(12)]
    started: list[tuple[str, list[str]]] = []
    with caplog.at_level(logging.WARNING, logger="lobby"):
        for step in range(250):
            roll = rnd.random()
            try:
                if roll < 0.3:
                    party = rnd.sample(players, rnd.randint(1, 3))
                    service.invoke(
                        "StartMatchmaking",
                        {"TicketId": f"t{step}", "ConfigurationName": rnd.choice("xyz"),
                         "Players": [{"PlayerId": p} for p in party]},
                    )  # fmt: skip
                    started.append((f"t{step}", party))
                elif roll < 0.65 and started:
                    ticket, party = rnd.choice(started)
                    service.invoke(
                        "AcceptMatch",
                        {"TicketId": ticket, "PlayerIds": rnd.sample(party, rnd.randint(1, len(party))),
                         "AcceptanceType": "ACCEPT" if rnd.random() < 0.85 else "REJECT"},
                    )  # fmt: skip
                elif roll < 0.72 and started:
                    service.invoke("StopMatchmaking", {"TicketId": rnd.choice(started)[0]})
                elif roll < 0.75:
                    service.invoke(
                        "UpdateMatchmakingConfiguration",
                        {"Name": rnd.choice("xyz"), "AcceptanceTimeoutSeconds": rnd.randint(1, 20)},
                    )
                else:
                    runtime.clock.advance(rnd.choice([0, 0.5, 1, 3, 10]))
                    runtime.run_due()
            except GameLiftError:
                pass
            check(runtime, service)
        runtime.clock.advance(1000)
        runtime.run_due()
        check(runtime, service)
    assert [r.getMessage() for r in caplog.records] == []  # no job failed along the way
    runtime.store.close()
