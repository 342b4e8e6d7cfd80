"""The rule set engine's tick figure (run with `make bench`; prints, asserts no timings).

One matchmaking tick (:func:`lobby.flexmatch.ruleset.form_matches`) over 10,000 searching
single-player tickets, on two 5v5 rule sets, measured in the same run, runs alternating:

- plain: the teams only;
- ruled: the same teams with the guide's FairTeamSkill distance rule (each team's average skill
  within 10 of the match's), a latency rule (100 ms) and an expansion (FairTeamSkill's
  maxDistance to 50 after 10 s).

Tickets: skill ~ N(1500, 300); four regions, each player 20-70 ms from a home region and
60-250 ms from the others; start times spread over 30 s, the tick at 30 s. A full garbage
collection precedes each timed tick. Target: a ruled
tick costs at most 3x a plain one (median CPU time per tick). Printed per rule set: CPU and wall
time per tick (median and best), matches formed, tickets left, and peak memory allocated during
one tick (tracemalloc, in a separate untimed run).

LOBBY_BENCH_RULESET_RUNS sets the number of timed runs of each (default 7);
LOBBY_BENCH_RULESET_TICKETS the pool size (default 10000).
"""

from __future__ import annotations

import gc
import json
import os
import random
import statistics
import time
import tracemalloc

from lobby.flexmatch.ruleset import Player, RuleSet, Ticket, evaluate_match, form_matches, parse_rule_set

RUNS = int(os.environ.get("LOBBY_BENCH_RULESET_RUNS", "7"))
TICKETS = int(os.environ.get("LOBBY_BENCH_RULESET_TICKETS", "10000"))
TARGET = 3.0
NOW = 30.0
REGIONS = ("us-east-1", "us-west-2", "eu-west-1", "ap-northeast-1")

TEAMS = [{"name": "red", "minPlayers": 5, "maxPlayers": 5}, {"name": "blue", "minPlayers": 5, "maxPlayers": 5}]
ATTRIBUTES = [{"name": "skill", "type": "number", "default": 1500}]
PLAIN = {"ruleLanguageVersion": "1.0", "playerAttributes": ATTRIBUTES, "teams": TEAMS}
RULED = {
    **PLAIN,
    "rules": [
        {
            "name": "FairTeamSkill",
            "type": "distance",
            "measurements": ["avg(teams[*].players.attributes[skill])"],
            "referenceValue": "avg(flatten(teams[*].players.attributes[skill]))",
            "maxDistance": 10,
        },
        {"name": "FastConnection", "type": "latency", "maxLatency": 100},
    ],
    "expansions": [{"target": "rules[FairTeamSkill].maxDistance", "steps": [{"waitTimeSeconds": 10, "value": 50}]}],
}


def pool(count: int) -> list[Ticket]:
    rnd = random.Random(7)
    tickets = []
    for i in range(count):
        home = rnd.randrange(len(REGIONS))
        latencies = {r: rnd.uniform(20, 70) if k == home else rnd.uniform(60, 250) for k, r in enumerate(REGIONS)}
        player = Player(f"p{i}", {"skill": rnd.gauss(1500, 300)}, latencies)
        tickets.append(Ticket(f"t{i}", i * NOW / count, (player,)))
    return tickets


def tick(rules: RuleSet, tickets: list[Ticket]) -> tuple[float, float, int, int]:
    """One timed tick, after a full collection, so neither rule set pays for the other's garbage."""
    gc.collect()
    wall, cpu = time.perf_counter(), time.process_time()
    result = form_matches(rules, tickets, NOW)
    return time.process_time() - cpu, time.perf_counter() - wall, len(result.matches), len(result.unmatched)


def peak_memory(rules: RuleSet, tickets: list[Ticket]) -> int:
    tracemalloc.start()
    try:
        form_matches(rules, tickets, NOW)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_a_ruled_tick_next_to_a_plain_one():
    tickets = pool(TICKETS)
    sets = {"plain": parse_rule_set(json.dumps(PLAIN)), "ruled": parse_rule_set(json.dumps(RULED))}
    for rules in sets.values():  # warm-up: compile the rule sets, fill caches
        form_matches(rules, tickets[:200], NOW)
    runs: dict[str, list[tuple[float, float, int, int]]] = {name: [] for name in sets}
    for _ in range(RUNS):
        for name, rules in sets.items():
            runs[name].append(tick(rules, tickets))

    print(f"\nrule set engine: one tick over {len(tickets)} tickets, {RUNS} runs each")
    cpu_median = {}
    for name, rules in sets.items():
        cpu = [r[0] for r in runs[name]]
        wall = [r[1] for r in runs[name]]
        _, _, matches, left = runs[name][-1]
        cpu_median[name] = statistics.median(cpu)
        print(
            f"  {name:5}  cpu {statistics.median(cpu) * 1000:7.1f} ms (best {min(cpu) * 1000:7.1f})  "
            f"wall {statistics.median(wall) * 1000:7.1f} ms (best {min(wall) * 1000:7.1f})  "
            f"{matches} matches, {left} tickets left, peak {peak_memory(rules, tickets) / 2**20:.1f} MiB"
        )
    ratio = cpu_median["ruled"] / cpu_median["plain"]
    print(f"  ruled / plain (median cpu): {ratio:.2f}x (target <= {TARGET}x)")

    # What is measured must be right: every match of the ruled tick passes the rule set.
    rules = sets["ruled"]
    by_id = {t.ticket_id: t for t in tickets}
    result = form_matches(rules, tickets, NOW)
    assert len(result.matches) > 0.9 * len(tickets) / 10
    for match in result.matches[::50]:
        assert evaluate_match(rules, {k: [by_id[t] for t in v] for k, v in match.teams.items()}, NOW).passed
