"""Property: every match a tick forms (the engine's, and the emulator's matchmaker around it)
satisfies every rule of its rule set, as the rule set stands for that match's wait, checked by an evaluator written here from the guide's text (and
the choices the package documents), sharing no code with the engine.

Rule sets are drawn from templates (each rule's meaning known to this file), with random
teams, parameters, party aggregation, expansions and algorithm settings; tickets are random
parties with random attributes, latencies and start times.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from lobby.emulator.flexmatch.matchmaker import Player as WirePlayer
from lobby.emulator.flexmatch.matchmaker import Pool, SearchingTicket, find_matches
from lobby.emulator.flexmatch.records import Config
from lobby.flexmatch.ruleset import Player, Ticket, form_matches, parse_rule_set

EPS = 1e-9  # the engine computes in floats; this checker forgives rounding, not more
REGIONS = ("r1", "r2")


@dataclass
class Spec:
    """A rule set body and, for each rule, what it means (template kind and parameters)."""

    body: dict[str, Any]
    kinds: dict[str, tuple[Any, ...]] = field(default_factory=dict)


# --- the independent checker ---------------------------------------------------------------------


def concrete_teams(body: dict[str, Any]) -> list[tuple[str, str, int, int]]:
    """(name, definition, min, max) per team of a match."""
    out = []
    for d in body["teams"]:
        q = d.get("quantity", 1)
        names = [d["name"]] if q == 1 else [f"{d['name']}_{n}" for n in range(1, q + 1)]
        out.extend((n, d["name"], d["minPlayers"], d["maxPlayers"]) for n in names)
    return out


def expanded(body: dict[str, Any], wait: float) -> dict[str, float]:
    """target -> value of every expansion whose step has been reached."""
    out = {}
    for e in body.get("expansions", []):
        reached = [s["value"] for s in e["steps"] if s["waitTimeSeconds"] <= wait]
        if reached:
            out[e["target"]] = reached[-1]
    return out


def ticket_number(t: Ticket, attr: str, how: str) -> float:
    values = [p.attributes[attr] for p in t.players]
    if how == "min":
        return min(values)
    if how == "max":
        return max(values)
    return sum(values) / len(values)


def latency_ok(match: dict[str, list[Ticket]], limit: float, how: str) -> bool:
    tickets = [t for team in match.values() for t in team]
    for region in REGIONS:
        good = True
        for t in tickets:
            values = [p.latencies[region] for p in t.players if region in p.latencies]
            if len(values) < len(t.players):
                good = False
                break
            lat = min(values) if how == "min" else max(values) if how == "max" else sum(values) / len(values)
            if lat > limit + EPS:
                good = False
                break
        if good:
            return True
    return False


def holds(spec: Spec, name: str, match: dict[str, list[Ticket]], values: dict[str, float]) -> bool:
    kind, *params = spec.kinds[name]
    tickets = [t for team in match.values() for t in team]
    players = [p for t in tickets for p in t.players]
    if kind == "spread":  # max(flatten(skill)) within maxDistance of min(flatten(skill))
        (how,) = params
        limit = values.get(f"rules[{name}].maxDistance", spec_rule(spec, name)["maxDistance"])
        skills = [ticket_number(t, "skill", how) for t in tickets]
        return not skills or max(skills) - min(skills) <= limit + EPS
    if kind == "fair":  # each non-empty team's average within maxDistance of the match average
        (how,) = params
        limit = values.get(f"rules[{name}].maxDistance", spec_rule(spec, name)["maxDistance"])
        per_team = [[ticket_number(t, "skill", how) for t in team] for team in match.values()]
        flat = [v for team in per_team for v in team]
        if not flat:
            return True
        overall = sum(flat) / len(flat)
        return all(abs(sum(team) / len(team) - overall) <= limit + EPS for team in per_team if team)
    if kind == "same_mode":
        return len({p.attributes["mode"] for p in players}) <= 1
    if kind == "skill_vs":  # every ticket's (aggregated) skill <op> reference
        op, ref, how = params
        skills = [ticket_number(t, "skill", how) for t in tickets]
        return all(s >= ref - EPS if op == ">=" else s <= ref + EPS for s in skills)
    if kind == "shared_modes":  # some mode in every ticket's collection (party: union)
        collections = [set().union(*(p.attributes["modes"] for p in t.players)) for t in tickets]
        return not collections or len(set.intersection(*collections)) >= 1
    if kind == "few_x":  # at most n collections (a party's union counts once) hold "x"
        (limit,) = params
        return sum(1 for t in tickets if any("x" in p.attributes["modes"] for p in t.players)) <= limit
    if kind == "latency":
        (how,) = params
        limit = values.get(f"rules[{name}].maxLatency", spec_rule(spec, name)["maxLatency"])
        return latency_ok(match, limit, how)
    if kind == "batch_skill":
        (how,) = params
        limit = values.get(f"rules[{name}].maxDistance", spec_rule(spec, name)["maxDistance"])
        skills = [ticket_number(t, "skill", how) for t in tickets]
        return not skills or max(skills) - min(skills) <= limit + EPS
    if kind == "batch_mode":
        return len({p.attributes["mode"] for p in players}) <= 1
    if kind == "equal_counts":
        first, second = params
        return sum(len(t.players) for t in match[first]) == sum(len(t.players) for t in match[second])
    if kind == "or":
        a, b = params
        return holds(spec, a, match, values) or holds(spec, b, match, values)
    if kind == "sort":
        return True
    raise AssertionError(kind)


def spec_rule(spec: Spec, name: str) -> dict[str, Any]:
    return next(r for r in spec.body["rules"] if r["name"] == name)


def kept_open(body: dict[str, Any], slots: int) -> dict[str, int]:
    """Team -> slots it keeps open under AdditionalPlayerCount ``slots``, as the emulator's
    decisions page deals them: one at a time to the team with the most room left (the first of
    equals), a team never left with fewer than one player."""
    teams = concrete_teams(body)
    kept = dict.fromkeys((name for name, *_ in teams), 0)
    for _ in range(slots):
        roomiest, best = None, 1
        for name, _definition, _low, high in teams:
            if high - kept[name] > best:
                roomiest, best = name, high - kept[name]
        if roomiest is None:
            break
        kept[roomiest] += 1
    return kept


def satisfied(spec: Spec, match: dict[str, list[Ticket]], now: float, slots: int = 0) -> list[str]:
    """What the match breaks (empty when it satisfies everything); ``slots``: the
    configuration's AdditionalPlayerCount."""
    body = spec.body
    kept = kept_open(body, slots)
    starts = [t.start_time for team in match.values() for t in team]
    oldest = body.get("algorithm", {}).get("expansionAgeSelection") == "oldest"
    wait = max(0.0, now - (min(starts) if oldest else max(starts)))
    values = expanded(body, wait)
    broken = []
    for name, definition, low, high in concrete_teams(body):
        low = int(values.get(f"teams[{definition}].minPlayers", low))
        high = max(1, high - kept[name])
        count = sum(len(t.players) for t in match.get(name, []))
        if not min(low, high) <= count <= high:
            broken.append(f"team {name} has {count}")
    inside_compound = {n for r in body.get("rules", []) if spec.kinds[r["name"]][0] == "or" for n in spec.kinds[r["name"]][1:]}
    for r in body.get("rules", []):
        if r["name"] not in inside_compound and not holds(spec, r["name"], match, values):
            broken.append(r["name"])
    return broken


# --- generating rule sets and tickets ------------------------------------------------------------


@st.composite
def specs(draw: st.DrawFn) -> Spec:
    team_count = draw(st.integers(1, 3))
    teams = []
    for name in ["red", "blue", "green"][:team_count]:
        low = draw(st.integers(1, 3))
        team = {"name": name, "minPlayers": low, "maxPlayers": draw(st.integers(low, low + 2))}
        if draw(st.booleans()) and team_count == 1:
            team["quantity"] = 2
        teams.append(team)
    body: dict[str, Any] = {
        "ruleLanguageVersion": "1.0",
        "playerAttributes": [
            {"name": "skill", "type": "number"},
            {"name": "mode", "type": "string", "default": "a"},
            {"name": "modes", "type": "string_list", "default": ["x"]},
        ],
        "teams": teams,
        "rules": [],
    }
    spec = Spec(body)
    if draw(st.booleans()):
        body["algorithm"] = {"expansionAgeSelection": draw(st.sampled_from(["newest", "oldest"]))}
        batching = draw(st.sampled_from(["random", "sorted", "largestPopulation", "fastestRegion"]))
        if batching in ("largestPopulation", "fastestRegion"):
            body["algorithm"].update(strategy="balanced", balancedAttribute="skill", batchingPreference=batching)
        elif batching == "sorted":
            body["algorithm"].update(batchingPreference="sorted", sortByAttributes=["mode", "skill"])
    how = st.sampled_from(["avg", "min", "max"])
    expandable: list[tuple[str, str, float]] = []
    kinds = draw(st.lists(st.sampled_from(
        ["spread", "fair", "same_mode", "skill_vs", "shared_modes", "few_x", "latency", "batch_skill", "batch_mode",
         "equal_counts"]), max_size=4, unique=True))  # fmt: skip
    skill = "teams[*].players.attributes[skill]"
    for kind in kinds:
        name = kind.title().replace("_", "")
        if kind == "spread":
            agg = draw(how)
            rule = {"type": "distance", "measurements": [f"max(flatten({skill}))"], "referenceValue": f"min(flatten({skill}))",
                    "maxDistance": draw(st.integers(0, 40)), "partyAggregation": agg}  # fmt: skip
            spec.kinds[name] = (kind, agg)
            expandable.append((name, "maxDistance", rule["maxDistance"]))
        elif kind == "fair":
            agg = draw(how)
            rule = {"type": "distance", "measurements": [f"avg({skill})"], "referenceValue": f"avg(flatten({skill}))",
                    "maxDistance": draw(st.integers(0, 20)), "partyAggregation": agg}  # fmt: skip
            spec.kinds[name] = (kind, agg)
            expandable.append((name, "maxDistance", rule["maxDistance"]))
        elif kind == "same_mode":
            rule = {"type": "comparison", "measurements": ["flatten(teams[*].players.attributes[mode])"], "operation": "="}
            spec.kinds[name] = (kind,)
        elif kind == "skill_vs":
            op, ref, agg = draw(st.sampled_from([">=", "<="])), draw(st.integers(0, 100)), draw(how)
            rule = {"type": "comparison", "measurements": [f"flatten({skill})"], "operation": op, "referenceValue": ref,
                    "partyAggregation": agg}  # fmt: skip
            spec.kinds[name] = (kind, op, ref, agg)
        elif kind == "shared_modes":
            rule = {"type": "collection", "operation": "intersection", "minCount": 1,
                    "measurements": ["flatten(teams[*].players.attributes[modes])"]}  # fmt: skip
            spec.kinds[name] = (kind,)
        elif kind == "few_x":
            limit = draw(st.integers(0, 3))
            rule = {"type": "collection", "operation": "contains", "referenceValue": "x", "maxCount": limit,
                    "measurements": ["flatten(teams[*].players.attributes[modes])"]}  # fmt: skip
            spec.kinds[name] = (kind, limit)
        elif kind == "latency":
            agg = draw(how)
            rule = {"type": "latency", "maxLatency": draw(st.integers(20, 150)), "partyAggregation": agg}
            spec.kinds[name] = (kind, agg)
            expandable.append((name, "maxLatency", rule["maxLatency"]))
        elif kind == "batch_skill":
            agg = draw(how)
            rule = {"type": "batchDistance", "batchAttribute": "skill", "maxDistance": draw(st.integers(0, 40)),
                    "partyAggregation": agg}  # fmt: skip
            spec.kinds[name] = (kind, agg)
            expandable.append((name, "maxDistance", rule["maxDistance"]))
        elif kind == "batch_mode":
            rule = {"type": "batchDistance", "batchAttribute": "mode"}
            spec.kinds[name] = (kind,)
        else:
            names = [t["name"] for t in teams if t.get("quantity", 1) == 1]
            if len(names) < 2:
                continue
            rule = {"type": "comparison", "operation": "=", "measurements": [f"count(teams[{names[0]}].players)"],
                    "referenceValue": f"count(teams[{names[1]}].players)"}  # fmt: skip
            spec.kinds[name] = (kind, names[0], names[1])
        body["rules"].append({"name": name, **rule})
    if draw(st.booleans()):  # a sort rule orders candidates and constrains nothing
        kind = draw(st.sampled_from(["absoluteSort", "distanceSort"]))
        body["rules"].append({"name": "Order", "type": kind, "sortAttribute": "skill",
                              "sortDirection": draw(st.sampled_from(["ascending", "descending"]))})  # fmt: skip
        spec.kinds["Order"] = ("sort",)
    combinable = [r["name"] for r in body["rules"] if r["type"] in ("distance", "comparison", "collection", "latency")]
    if len(combinable) >= 2 and draw(st.booleans()):
        a, b = combinable[:2]
        body["rules"].append({"name": "Either", "type": "compound", "statement": f"or({a}, {b})"})
        spec.kinds["Either"] = ("or", a, b)
    expansions = []
    for name, target, base in expandable:
        if draw(st.booleans()):
            expansions.append({"target": f"rules[{name}].{target}", "steps": [
                {"waitTimeSeconds": draw(st.integers(1, 20)), "value": base + draw(st.integers(1, 50))}]})  # fmt: skip
    first = teams[0]
    if first["minPlayers"] > 1 and draw(st.booleans()):
        expansions.append({"target": f"teams[{first['name']}].minPlayers", "steps": [
            {"waitTimeSeconds": draw(st.integers(1, 30)), "value": first["minPlayers"] - 1}]})  # fmt: skip
    if expansions:
        body["expansions"] = expansions
    return spec


@st.composite
def pools(draw: st.DrawFn) -> list[Ticket]:
    count = draw(st.integers(0, 30))
    tickets = []
    for i in range(count):
        players = []
        for j in range(draw(st.sampled_from([1, 1, 1, 2]))):
            attributes: dict[str, Any] = {"skill": float(draw(st.integers(0, 100)))}
            if draw(st.booleans()):
                attributes["mode"] = draw(st.sampled_from(["a", "b"]))
            if draw(st.booleans()):
                attributes["modes"] = tuple(draw(st.lists(st.sampled_from(["x", "y", "z"]), min_size=1, max_size=3, unique=True)))
            latencies = {r: float(draw(st.integers(10, 200))) for r in REGIONS if draw(st.integers(0, 4))}
            players.append(Player(f"p{i}-{j}", attributes, latencies or {"r1": 100.0}))
        tickets.append(Ticket(f"t{i}", float(draw(st.integers(0, 60))), tuple(players)))
    return tickets


def with_defaults(spec: Spec, ticket: Ticket) -> Ticket:
    """The ticket as the checker sees it: declared defaults filled in."""
    defaults = {a["name"]: a.get("default") for a in spec.body["playerAttributes"]}

    def fill(p: Player) -> Player:
        attrs = dict(p.attributes)
        for k, v in defaults.items():
            if k not in attrs and v is not None:
                attrs[k] = tuple(v) if isinstance(v, list) else v
        return Player(p.player_id, attrs, p.latencies)

    return Ticket(ticket.ticket_id, ticket.start_time, tuple(fill(p) for p in ticket.players))


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(spec=specs(), tickets=pools(), now=st.integers(0, 90))
def test_every_match_formed_satisfies_every_rule_when_it_forms(spec, tickets, now):
    rules = parse_rule_set(json.dumps(spec.body))
    result = form_matches(rules, tickets, float(now))
    seen: set[str] = set()
    by_id = {t.ticket_id: with_defaults(spec, t) for t in tickets}
    for formed in result.matches:
        match = {name: [by_id[t] for t in ids] for name, ids in formed.teams.items()}
        assert not seen.intersection(formed.ticket_ids), "a ticket is in two matches"
        seen.update(formed.ticket_ids)
        broken = satisfied(spec, match, float(now))
        assert not broken, (broken, spec.body, formed.teams)
        assert [m.rule for m in formed.metrics] == [r["name"] for r in spec.body["rules"]]
    event("matches formed" if result.matches else "no match formed")
    assert len(seen) + len(result.unmatched) == len(tickets)
    assert {r.ticket_id for r in result.unmatched}.isdisjoint(seen)
    assert all(r.reasons for r in result.unmatched)


def wire_player(p: Player) -> WirePlayer:
    def value(v: Any) -> dict[str, Any]:
        if isinstance(v, tuple):
            return {"SL": list(v)}
        return {"S": v} if isinstance(v, str) else {"N": v}

    return WirePlayer(p.player_id, {k: value(v) for k, v in p.attributes.items()}, {r: int(ms) for r, ms in p.latencies.items()})


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(spec=specs(), tickets=pools(), now=st.integers(0, 90), slots=st.integers(0, 4))
def test_every_match_the_emulators_matchmaker_forms_satisfies_every_rule(spec, tickets, now, slots):
    """The same property through the emulator's matchmaker, with a configuration keeping
    AdditionalPlayerCount slots open (wire attributes in, player ids out)."""
    rules = parse_rule_set(json.dumps(spec.body))
    line = [
        SearchingTicket(t.ticket_id, tuple(wire_player(p) for p in t.players), t.start_time, t.start_time)
        for t in sorted(tickets, key=lambda t: t.start_time)
    ]
    config = Config("c", "r", {"FlexMatchMode": "WITH_QUEUE", "AdditionalPlayerCount": slots}, 0.0, None)
    outcome = find_matches(Pool(config, rules, line, float(now)))
    by_id = {t.ticket_id: with_defaults(spec, t) for t in tickets}
    ticket_of = {p.player_id: t.ticket_id for t in tickets for p in t.players}
    seen: set[str] = set()
    for proposed in outcome.matches:
        match = {
            team: [by_id[t] for t in dict.fromkeys(ticket_of[p] for p in players)]
            for team, players in proposed.teams.items()
        }
        assert not seen.intersection(proposed.tickets), "a ticket is in two matches"
        seen.update(proposed.tickets)
        broken = satisfied(spec, match, float(now), slots)
        assert not broken, (broken, spec.body, slots, proposed.teams)
    assert len(seen) + len(outcome.left) == len(tickets)
