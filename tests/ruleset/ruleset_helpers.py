"""Shared builders for the rule set engine tests: the guide's example rule sets, and tickets."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from lobby.flexmatch.ruleset import Player, RuleSet, Ticket, parse_rule_set

EXAMPLES = Path(__file__).parent / "examples"
EXAMPLE_FILES = sorted(p.name for p in EXAMPLES.glob("*.json"))


def example_body(name: str) -> dict[str, Any]:
    """The guide's example rule set ``name`` (a file stem or a prefix such as "example3")."""
    (path,) = [p for p in EXAMPLES.glob("*.json") if p.stem == name or p.stem.startswith(name + "_")]
    return json.loads(path.read_text())


def example(name: str) -> RuleSet:
    return parse_rule_set(example_body(name))


def body(teams: list[tuple[str, int, int]] | None = None, **extra: Any) -> dict[str, Any]:
    """A small rule set body: teams as (name, minPlayers, maxPlayers), plus any sections."""
    teams = teams or [("red", 1, 1), ("blue", 1, 1)]
    out: dict[str, Any] = {
        "ruleLanguageVersion": "1.0",
        "teams": [{"name": n, "minPlayers": lo, "maxPlayers": hi} for n, lo, hi in teams],
    }
    out.update(extra)
    return out


def solo(ticket_id: str, start: float = 0.0, latency: dict[str, float] | None = None, **attributes: Any) -> Ticket:
    """A one-player ticket; the player is named after the ticket."""
    return Ticket(ticket_id, start, (Player(ticket_id, attributes, latency or {}),))


def party(ticket_id: str, start: float, *players: dict[str, Any], latency: dict[str, float] | None = None) -> Ticket:
    """A ticket of several players, named <ticket>-<n>, each with the given attributes."""
    return Ticket(
        ticket_id,
        start,
        tuple(Player(f"{ticket_id}-{n}", attrs, latency or {}) for n, attrs in enumerate(players)),
    )
