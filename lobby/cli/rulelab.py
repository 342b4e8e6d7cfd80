"""`lobby ruleset`: a FlexMatch rule set lab on the command line, no service needed.

- ``lobby ruleset check RULESET.json``: the checks CreateMatchmakingRuleSet makes (every
  problem, each naming its section and field).
- ``lobby ruleset run RULESET.json TICKETS.json``: the tickets through the rule set engine on a
  virtual clock: a matchmaking tick every ``--tick`` seconds from the first ticket's start until
  ``--until``; each ticket joins the pool at its ``startTime``. Prints every match formed (when,
  teams, per-rule evaluation counts) and every ticket left over with why.

A tickets file is a JSON list (or ``{"tickets": [...]}``) of objects: ``ticketId``,
``startTime`` (seconds on the virtual clock, default 0) and ``players``, each a GameLift
``Player`` (``PlayerId``, ``PlayerAttributes`` as ``{"N": 1200}``..., ``LatencyInMs``).
``--json`` prints one JSON document; the exit status is 1 when the rule set is invalid.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lobby.cli import emit, seconds, whole_number

if TYPE_CHECKING:
    from lobby.flexmatch.ruleset import RuleSet, Ticket


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    lab = sub.add_parser(
        "ruleset",
        help="check a FlexMatch rule set and run tickets through it locally",
        description="A FlexMatch rule set lab: check a rule set file, or run a file of tickets "
        "through it on a virtual clock, with the matches formed and why every other ticket waits.",
    )
    what = lab.add_subparsers(dest="lab_command", metavar="ACTION", required=True)
    check = what.add_parser("check", help="check a rule set file as CreateMatchmakingRuleSet does")
    check.add_argument("rule_set", metavar="RULESET", type=Path)
    check.add_argument("--json", action="store_true", help="print one JSON document")
    check.set_defaults(func=run_check)
    run = what.add_parser("run", help="run a tickets file through a rule set on a virtual clock")
    run.add_argument("rule_set", metavar="RULESET", type=Path)
    run.add_argument("tickets", metavar="TICKETS", type=Path)
    run.add_argument(
        "--tick", type=seconds(0.01, 3600), default=1.0, metavar="SECONDS", help="seconds between ticks (1)"
    )
    run.add_argument(
        "--until", type=seconds(-1e12, 1e12), default=None, metavar="SECONDS",
        help="last tick (default: 60 s after the last ticket's start)",
    )  # fmt: skip
    run.add_argument(
        "--additional-player-count", type=whole_number(0, 199), default=0, metavar="N",
        help="player slots each match keeps open, as a configuration's AdditionalPlayerCount (0)",
    )  # fmt: skip
    run.add_argument("--json", action="store_true", help="print one JSON document")
    run.set_defaults(func=run_tickets)


def _read(path: Path) -> Any:
    from lobby.cli import CliError

    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise CliError(f"cannot read {path}: {exc.strerror}") from None
    except ValueError as exc:
        raise CliError(f"{path} is not valid JSON: {exc}") from None


def _print(doc: Any, text: str, as_json: bool) -> None:
    emit(json.dumps(doc, indent=2) if as_json else text)


def _check(path: Path) -> tuple[RuleSet | None, list[dict[str, Any]]]:
    from lobby.flexmatch.ruleset import validate_rule_set

    result = validate_rule_set(_read(path))
    if isinstance(result, list):
        return None, [{"section": p.section, "field": p.field, "message": p.message} for p in result]
    return result, []


def run_check(args: argparse.Namespace) -> int:
    rule_set, problems = _check(args.rule_set)
    if rule_set is None:
        text = "\n".join(
            f"{p['section']}{'.' + p['field'] if p['field'] else ''}: {p['message']}" for p in problems
        )
        _print({"valid": False, "problems": problems}, f"{args.rule_set}: invalid\n{text}", args.json)
        return 1
    doc = {
        "valid": True,
        "teams": [{"name": t.name, "minPlayers": t.min_players, "maxPlayers": t.max_players} for t in rule_set.teams],
        "rules": list(rule_set.rule_names),
        "largeMatch": rule_set.is_large,
    }
    teams = ", ".join(f"{t.name} {t.min_players}-{t.max_players}" for t in rule_set.teams)
    text = f"{args.rule_set}: valid; teams {teams}; rules {', '.join(rule_set.rule_names) or '-'}"
    _print(doc, text, args.json)
    return 0


def _tickets(path: Path) -> list[Ticket]:
    from lobby.cli import CliError
    from lobby.flexmatch.ruleset import WireError, ticket_from_wire

    raw = _read(path)
    if isinstance(raw, dict):
        raw = raw.get("tickets")
    if not isinstance(raw, list):
        raise CliError(f"{path} must hold a list of tickets (or an object with a tickets list)")
    tickets = []
    for i, entry in enumerate(raw):
        if not isinstance(entry, dict) or not isinstance(entry.get("players"), list):
            raise CliError(f"{path}: ticket {i} needs a players list")
        start = entry.get("startTime", 0)
        if not isinstance(start, (int, float)) or isinstance(start, bool):
            raise CliError(f"{path}: ticket {i} has a startTime that is not a number")
        try:
            tickets.append(ticket_from_wire(str(entry.get("ticketId", f"ticket-{i}")), float(start), entry["players"]))
        except WireError as exc:
            raise CliError(f"{path}: ticket {i}: {exc}") from None
    return tickets


#: The most ticks one run may take (a day at one tick a second, with room).
MAX_TICKS = 100_000


def simulate(rule_set: RuleSet, tickets: list[Ticket], tick: float, until: float | None) -> dict[str, Any]:
    """Ticks from the first start time to ``until``: the matches formed and what is left."""
    from lobby.flexmatch.ruleset import form_matches

    if tick <= 0:
        raise ValueError("the tick must be a positive number of seconds")
    arrivals = sorted(tickets, key=lambda t: t.start_time)
    first = arrivals[0].start_time if arrivals else 0.0
    last = until if until is not None else (arrivals[-1].start_time + 60 if arrivals else 0.0)
    if (last - first) / tick > MAX_TICKS:
        raise ValueError(
            f"{last - first:g} s at one tick every {tick:g} s is more than {MAX_TICKS:,} ticks; "
            "give a longer --tick or an earlier --until"
        )
    matches: list[dict[str, Any]] = []
    pool: list[Ticket] = []
    left: dict[str, Any] = {}
    waiting = list(arrivals)
    now = first
    while True:
        while waiting and waiting[0].start_time <= now:
            pool.append(waiting.pop(0))
        result = form_matches(rule_set, pool, now)
        for formed in result.matches:
            matches.append(
                {
                    "time": now,
                    "teams": {team: list(ids) for team, ids in formed.teams.items()},
                    "ruleEvaluationMetrics": [m.as_event() for m in formed.metrics],
                }
            )
        taken = {t for m in result.matches for t in m.ticket_ids}
        pool = [t for t in pool if t.ticket_id not in taken]
        left = {
            r.ticket_id: {
                "ticketId": r.ticket_id,
                "heldBackBy": list(r.held_back_by),
                "rules": [m.as_event() for m in r.rules],
                "reasons": list(r.reasons),
            }
            for r in result.unmatched
        }
        if now >= last:
            break
        now = min(now + tick, last)
    unmatched = [left[t.ticket_id] for t in pool if t.ticket_id in left]
    unmatched += [{"ticketId": t.ticket_id, "heldBackBy": [], "rules": [], "reasons": ["It starts after the last tick."]}
                  for t in waiting]  # fmt: skip
    return {"until": last, "matches": matches, "unmatched": unmatched}


def run_tickets(args: argparse.Namespace) -> int:
    from lobby.cli import CliError

    rule_set, problems = _check(args.rule_set)
    if rule_set is None:
        text = "\n".join(p["message"] for p in problems)
        _print({"valid": False, "problems": problems}, f"{args.rule_set}: invalid\n{text}", args.json)
        return 1
    from lobby.flexmatch.ruleset import keep_open

    rule_set = keep_open(rule_set, args.additional_player_count)
    try:
        doc = simulate(rule_set, _tickets(args.tickets), args.tick, args.until)
    except ValueError as exc:
        raise CliError(str(exc)) from None
    lines = [f"{len(doc['matches'])} matches, {len(doc['unmatched'])} tickets left at {doc['until']:g} s"]
    for m in doc["matches"]:
        teams = "; ".join(f"{team}: {', '.join(ids) or '-'}" for team, ids in m["teams"].items())
        lines.append(f"match at {m['time']:g} s: {teams}")
        lines.extend(
            f"  {r['ruleName']}: passed {r['passedCount']}, failed {r['failedCount']}"
            for r in m["ruleEvaluationMetrics"]
        )
    for u in doc["unmatched"]:
        held = ", ".join(u["heldBackBy"])
        lines.append(f"left {u['ticketId']}" + (f": held back by {held}" if held else ""))
        lines.extend(f"  {r['ruleName']}: passed {r['passedCount']}, failed {r['failedCount']}" for r in u["rules"])
        lines.extend(f"  {reason}" for reason in u["reasons"])
    _print({"valid": True, **doc}, "\n".join(lines), args.json)
    return 0
