"""What the race tests (tests/emulator/test_races.py) and the race bench
(tests/bench/test_bench_races.py) share: the many-captains TeamBattles scenario, the match they
create, and the event stream read to its last event."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
from httpx_sse import ServerSentEvent, connect_sse
from teambattles_helpers import EVERY_SCOPE

from lobby.emulator.scenario import load_scenario
from lobby.flexmatch.lifecycle import EventType

GAME = "gm_skyline"

#: The body team 0 creates an open match with.
NEW_MATCH = {
    "teamId": "t_0",
    "gameId": GAME,
    "gameModeId": "hardpoint",
    "matchType": "XP_ONLY",
    "mapSelectionType": "FLEX",
    "mapPreferenceMode": "PREFERRED",
    "teamSize": 1,
    "bestOf": 1,
    "activeRoster": ["u_0"],
    "publishStatus": "PUBLISHED",
}

#: The status each FlexMatch event puts the tickets it lists in (None: the event moves no ticket).
EVENT_STATUS = {
    EventType.SEARCHING: "SEARCHING",
    EventType.POTENTIAL_MATCH_CREATED: "REQUIRES_ACCEPTANCE",
    EventType.ACCEPT_MATCH: "REQUIRES_ACCEPTANCE",
    EventType.SUCCEEDED: "COMPLETED",
    EventType.CANCELLED: "CANCELLED",
    EventType.TIMED_OUT: "TIMED_OUT",
    EventType.FAILED: "FAILED",
}


def captains(teams: int, key: Callable[[int], str]) -> dict[str, Any]:
    """The TeamBattles section of a scenario: teams 0..``teams``, each with one player, its
    captain, whose key is ``key(n)``, every scope and no rate limit to speak of."""
    demo = load_scenario().model_dump(mode="json")
    skyline = next(g for g in demo["teambattles"]["games"] if g["convex_id"] == GAME)
    unlimited = {"burst": 1_000_000, "per_second": 1_000_000}
    n = range(teams + 1)
    return {
        "raised_rate_limits": {
            **dict.fromkeys(("free", "pro", "studio", "ip"), unlimited),
            "reason": "race tests measure the service, not its buckets",
        },
        "games": [skyline],
        "users": [{"id": f"u_{i}", "username": f"player{i}", "name": f"Player {i}"} for i in n],
        "teams": [
            {
                "id": f"t_{i}",
                "slug": f"team-{i}",
                "name": f"Team {i}",
                "tag": f"T{i}",
                "game": "skyline-strike",
                "members": [{"user": f"u_{i}", "role": "CAPTAIN"}],
            }
            for i in n
        ],
        "keys": [{"key": key(i), "owner": f"u_{i}", "scopes": EVERY_SCOPE} for i in n],
    }


def every_event(url: str, timeout: float = 10) -> Iterator[tuple[ServerSentEvent, dict[str, Any]]]:
    """Every event on the SSE stream, of either service, with its payload, oldest first, up to
    the last one the emulator had when called (read unfiltered, so that one ends the read)."""
    last = httpx.get(url + "/_emulator/health").json()["lastEventId"]
    with httpx.Client(timeout=timeout) as client:
        with connect_sse(client, "GET", f"{url}/_emulator/events") as source:
            for sse in source.iter_sse():
                if not sse.data:  # a keep-alive comment
                    continue
                yield sse, sse.json()
                if int(sse.id) >= last:
                    break
