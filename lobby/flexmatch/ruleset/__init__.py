"""FlexMatch rule sets: read and check a rule set body, judge a match, form matches in a tick.

Pure Python, no I/O. The public surface:

- :func:`validate_rule_set` / :func:`parse_rule_set` -- a body (JSON text or its object) to a
  :class:`RuleSet`, or every :class:`RuleSetProblem` found (section, field, sentence).
- :func:`evaluate_match` -- a candidate match (team -> tickets) at ``now``: per rule, pass or
  fail and why, with the expansions the tickets' wait earns.
- :func:`form_matches` -- one matchmaking tick over the searching tickets: the matches formed
  (with ``ruleEvaluationMetrics``) and, for every ticket left, why.
- :func:`keep_open` -- the rule set with a configuration's AdditionalPlayerCount applied
  (fewer players per match, slots left open for players to come).
- :class:`Ticket`, :class:`Player` and :func:`player_from_wire` for the input.

Choices where the FlexMatch developer guide is silent (or contradicts itself):

Reading a body
    Properties the guide does not define are ignored. Numbers may be written as strings
    (the guide itself writes ``"maxDistance": "500"``). minPlayers and maxPlayers are whole
    numbers of at least 1, quantity too; there is no limit on the number of teams (the guide's
    own example 8 has eleven). Teams of a definition with quantity N are named
    ``<name>_1`` .. ``<name>_N``; in property expressions and team expansions the definition's
    name stands for all of them. Expansion steps must wait strictly longer one after another;
    two expansions may not target the same property. ``team[...]`` is read as ``teams[...]``
    (the guide's table writes both) and ``players[playerid]`` as ``players[playerId]``.
    The "balanced" strategy is accepted for small matches too (the guide's example 10 uses it
    for 40 players); a large match (more than 40 players) must use it and may only have
    latency rules (maxLatency only) and batchDistance rules. A collection rule with neither
    minCount nor maxCount requires a count of at least 1. A latency rule with maxDistance and
    no distanceReference measures from the lowest latency ("min"). A batchDistance rule on a
    number attribute without maxDistance requires equal values; on a string attribute,
    maxDistance is ignored and all values must be equal. Compound rules may not name sort rules
    (they never pass or fail), as they may not name batchDistance rules. A string
    referenceValue that starts like a property expression (``teams[`` or ``name(``) is one;
    any other is a literal. Comparisons order numbers only; = and != also compare strings.
    contains takes a literal string; reference_intersection_count a list of strings, one
    string, or an expression giving a list of strings. Property expressions have no syntax to
    pick a key of a string_number_map (only sort rules read maps, through mapKey), and
    expansions target rules and teams only (not the algorithm).

Values
    Every value a measurement gives must pass (a list of team averages: each average).
    ``count(teams[x].players)`` counts players, a party's each.
    A ticket's players keep their own values for string, string-list and map attributes.
    For a number attribute, partyAggregation (default avg) makes a party count as one value,
    its players' average (or min, or max); in a collection rule, "union" (default) or
    "intersection" makes a party's string lists one list. A player without a declared
    attribute gets its default, or the ticket can never match; a player without latency data
    can never match a rule set with a latency rule (inside a compound rule too). ``stddev`` is the population standard
    deviation; aggregations skip missing values (an empty team has no average), and a rule
    whose reference value is missing passes. Collection measurements are read as collections:
    a list of strings is one collection, a list of lists is one collection per entry, a list
    per team of lists is flattened to one collection per entry.

Judging
    A latency rule needs one region where every ticket's latency (aggregated over a party,
    over the regions all its players report) is at most maxLatency; with maxDistance, every
    ticket within maxDistance of the min or average latency in that region. "At most" is
    inclusive everywhere (maxDistance, maxLatency, maxCount). Rules named by a compound rule
    are judged only through it. The placement region is, among the regions every ticket may
    use, the one with the lowest average latency.

Building (see :mod:`.algorithm` for the details)
    Deterministic: "random" batching keeps one batch (split by string batchDistance values,
    and by region under a latency rule) in age order. Anchors go oldest first; candidates
    come best first from a sorted index (sort rules, sorted batching, a numeric batchDistance
    or balancedAttribute, or the attribute a distance rule measures; else age, younger than
    the anchor first), at most ``window`` of them, and an anchor gives up after a run of
    refusals. A ticket taken into a failed attempt is not an anchor again in the same tick.
    While a match grows, a candidate is refused when a rule fails for good; rules that depend
    on team counts or sums, and lower bounds more players could still meet, are judged on the
    complete match, and the builder gives back recently added tickets until the complete
    match passes. The expansion level is recomputed at each step from the tickets then in the
    match (``newest``: adding a new ticket restarts the clock). Teams fill below-minimum
    first, then most open slots first. Rule evaluation metrics count the rule checks made
    while the match was built (one per ticket tried, per team for rules that read teams;
    checks stop at the first enforced rule that fails), and the checks of the complete match
    for rules judged only there (a rule checked while building counts there only when it
    fails); sort rules count nothing. A leftover ticket's report counts the checks made with
    it, as anchor or candidate. backfillPriority is accepted and has no effect (there are
    no backfill tickets).
"""

from lobby.flexmatch.ruleset.algorithm import default_window, form_matches
from lobby.flexmatch.ruleset.evaluate import MatchEvaluation, RuleResult, evaluate_match, keep_open
from lobby.flexmatch.ruleset.explain import FormedMatch, RuleMetric, TicketReport, TickResult
from lobby.flexmatch.ruleset.model import (
    AttributeValue,
    RuleSet,
    RuleSetInvalid,
    RuleSetProblem,
    Team,
)
from lobby.flexmatch.ruleset.players import Player, Ticket, WireError, player_from_wire, ticket_from_wire
from lobby.flexmatch.ruleset.schema import parse_rule_set, validate_rule_set

__all__ = [
    "AttributeValue",
    "FormedMatch",
    "MatchEvaluation",
    "Player",
    "RuleMetric",
    "RuleResult",
    "RuleSet",
    "RuleSetInvalid",
    "RuleSetProblem",
    "Team",
    "Ticket",
    "TicketReport",
    "TickResult",
    "WireError",
    "default_window",
    "evaluate_match",
    "form_matches",
    "keep_open",
    "parse_rule_set",
    "player_from_wire",
    "ticket_from_wire",
    "validate_rule_set",
]
