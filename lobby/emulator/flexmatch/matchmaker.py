"""The matchmaker: which searching tickets of one configuration make a match.

FIFO per configuration: searching tickets, oldest first, are placed whole on a team until every
team of the rule set has its minimum; that set of tickets is proposed as a match. Only ``teams``
of a rule set are evaluated; other rules and ``AdditionalPlayerCount`` are stored and reported,
not applied.
"""

from __future__ import annotations

from lobby.emulator.flexmatch.records import Ticket
from lobby.emulator.flexmatch.rulesets import RuleSet


def form_match(rule_set: RuleSet, pool: list[Ticket], budget: int = 5_000) -> dict[str, str] | None:
    """{ticket id: team} for the first set of searching tickets, oldest preferred, that gives
    every team at least its minimum without passing any maximum; None if there is none.

    A depth-first search in FIFO order: each ticket is first tried on a team (the one furthest
    below its minimum first), and only then left out. Teams alike in bounds and fill are tried
    once, a branch stops when the tickets left cannot cover what is missing, and ``budget``
    bounds the work for pools that can never fill a match. Recursion goes one level per ticket
    placed, so its depth is bounded by the size of a match, not of the pool.
    """
    teams = rule_set.teams
    sizes = [len(t.players) for t in pool]
    if sum(sizes) < rule_set.min_players:
        return None
    after = [0] * (len(pool) + 1)  # players in pool[i:]
    for i in range(len(pool) - 1, -1, -1):
        after[i] = after[i + 1] + sizes[i]
    fill = [0] * len(teams)
    chosen: dict[str, str] = {}
    left = [budget]

    def missing() -> int:
        return sum(max(0, t.min_players - fill[j]) for j, t in enumerate(teams))

    def search(start: int) -> bool:
        short = missing()
        if short == 0:
            return True
        for i in range(start, len(pool)):
            if short > after[i] or left[0] <= 0:
                return False
            left[0] -= 1
            n = sizes[i]
            order = sorted(
                (j for j, t in enumerate(teams) if fill[j] + n <= t.max_players),
                key=lambda j: (fill[j] - teams[j].min_players, fill[j], j),
            )
            tried: set[tuple[int, int, int]] = set()
            for j in order:
                shape = (teams[j].min_players, teams[j].max_players, fill[j])
                if shape in tried:
                    continue
                tried.add(shape)
                fill[j] += n
                chosen[pool[i].ticket_id] = teams[j].name
                if search(i + 1):
                    return True
                fill[j] -= n
                del chosen[pool[i].ticket_id]
            # leave pool[i] out and go on with the next ticket
        return False

    return dict(chosen) if search(0) else None
