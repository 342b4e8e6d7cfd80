"""`lobby tickets` and `lobby accept`: FlexMatch without the TUI, for people and scripts.

Both use the active settings profile. Failures print one plain line and exit 1. ``--json``
output is a stable, documented shape (see ``ticket_json``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
from collections.abc import Coroutine, Sequence
from typing import TYPE_CHECKING, Any

from lobby.cli import emit

if TYPE_CHECKING:
    from lobby.config_schema import Profile
    from lobby.core.clock import Clock
    from lobby.flexmatch.backend import FlexMatchBackend
    from lobby.flexmatch.fold import Ticket as TicketView
    from lobby.flexmatch.tickets import TicketBook


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add this area's sub-commands."""
    t = sub.add_parser(
        "tickets",
        help="list FlexMatch tickets awaiting your acceptance",
        description="List FlexMatch tickets that await acceptance by your players "
        "(gamelift.players of the profile, or --player).",
    )
    t.add_argument("--json", action="store_true", help="print one JSON document")
    t.add_argument("--player", action="append", metavar="ID", help="your player id (repeatable)")
    t.add_argument(
        "--all", action="store_true", help="every live ticket known from the event stream, not only yours"
    )
    t.add_argument(
        "--ticket",
        action="append",
        metavar="ID",
        help="show these tickets (works without an event stream; repeatable)",
    )
    t.add_argument(
        "--explain",
        action="store_true",
        help="for each searching ticket, say which rules hold it back (the emulator's matchmaker only)",
    )
    t.set_defaults(func=run_tickets)

    a = sub.add_parser(
        "accept",
        help="accept (or reject) the match proposed to a FlexMatch ticket",
        description="Answer the match proposed to TICKET for your players.",
    )
    a.add_argument("ticket", metavar="TICKET")
    a.add_argument(
        "--player",
        action="append",
        metavar="ID",
        help="player who answers (repeatable; default: your configured players in the ticket)",
    )
    a.add_argument("--reject", action="store_true", help="reject instead of accept")
    a.add_argument("--json", action="store_true", help="print one JSON document")
    a.set_defaults(func=run_accept)


# --- wiring ---------------------------------------------------------------------------------------


def _profile() -> tuple[str, Profile]:
    from pydantic import ValidationError

    from lobby.cli import CliError
    from lobby.config_schema import Settings

    try:
        return Settings.load().active()
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise CliError(f"the lobby settings are invalid at {where}: {first['msg']}") from None
    except ValueError as exc:
        raise CliError(str(exc)) from None


async def _open(profile: Profile, players: Sequence[str] | None) -> FlexMatchBackend:
    from lobby.cli.profiles import flexmatch_backend

    return await flexmatch_backend(profile, players=players)


def _run(coro: Coroutine[Any, Any, int]) -> int:
    from lobby.cli import CliError
    from lobby.core.errors import BackendError

    try:
        return asyncio.run(coro)
    except BackendError as exc:
        raise CliError(_sentence(exc.message)) from None



def _sentence(text: str) -> str:
    """CliError prints 'lobby: <text>': keep it one line."""
    return " ".join(text.split())


# --- lobby tickets ------------------------------------------------------------------------------


def run_tickets(args: argparse.Namespace) -> int:
    return _run(_tickets(args))


async def _tickets(args: argparse.Namespace) -> int:
    from lobby.cli import CliError
    from lobby.flexmatch.lifecycle import TicketStatus

    name, profile = _profile()
    chosen = args.player or None
    backend = await _open(profile, chosen)
    async with backend:
        if args.ticket:
            for found in await backend.client.describe_matchmaking(args.ticket):
                backend.book.observe(found, now=backend.clock.now())
            wanted = set(args.ticket)
            views = [t for t in backend.tickets(live_only=False) if t.ticket_id in wanted]
        elif backend.feed_url is None:
            raise CliError(
                "GameLift has no call that lists tickets by player and this profile has no event "
                "stream: pass --ticket ID, or set gamelift.feed_url in the profile."
            )
        else:
            await backend.sync()
            views = backend.tickets()
            if not args.all:
                views = [t for t in views if t.status is TicketStatus.REQUIRES_ACCEPTANCE]
            if not args.all or chosen:
                views = [t for t in views if backend.book.is_mine(t)]
        clock = backend.clock
        rows = [ticket_json(backend.book, t, clock) for t in views]
        if args.explain:
            await _explain(backend.client.endpoint, rows)
    rows.sort(key=lambda r: (r["secondsLeft"] is None, r["secondsLeft"] or 0, r["ticketId"]))

    if args.json:
        return emit(json.dumps({"profile": name, "tickets": rows}, indent=2))
    if not rows:
        return emit("No tickets await your acceptance." if not (args.all or args.ticket) else "No tickets found.")
    table = _table(rows)
    if args.explain:
        table += "\n" + "\n".join(_explanation_lines(rows))
    return emit(table)


#: The emulator's route for why tickets are still searching (GameLift has no such call).
EXPLAIN_PATH = "/_emulator/flexmatch/explain"


async def _explain(endpoint: str, rows: list[dict[str, Any]]) -> None:
    """Add ``explanation`` to every SEARCHING row: the emulator's account of why it has no match
    (``heldBackBy``, ``rules`` with pass and fail counts, ``reasons``), or None where there is none."""
    import httpx

    from lobby.cli import CliError

    searching = [r["ticketId"] for r in rows if r["status"] == "SEARCHING"]
    for r in rows:
        r["explanation"] = None
    if not searching:
        return
    try:
        async with httpx.AsyncClient(timeout=10) as http:
            answer = await http.get(endpoint + EXPLAIN_PATH, params={"ticketId": searching})
    except httpx.HTTPError as exc:
        raise CliError(f"could not ask the matchmaker why: {type(exc).__name__}") from None
    if answer.status_code == 404:
        raise CliError("--explain needs the lobby emulator's matchmaker; GameLift does not say why a ticket waits.")
    if answer.status_code != 200:
        raise CliError(f"the emulator answered {answer.status_code} when asked why tickets wait")
    found = {e["ticketId"]: e for e in answer.json().get("tickets", []) if e.get("searching")}
    for r in rows:
        entry = found.get(r["ticketId"])
        if entry is not None:
            r["explanation"] = {k: entry[k] for k in ("heldBackBy", "rules", "reasons")}


def _explanation_lines(rows: list[dict[str, Any]]) -> list[str]:
    lines: list[str] = []
    for r in rows:
        why = r.get("explanation")
        if r["status"] != "SEARCHING":
            continue
        if why is None:
            lines.append(f"{r['ticketId']}: the matchmaker has not looked at it yet.")
            continue
        held = ", ".join(why["heldBackBy"]) or "no rule failed"
        lines.append(f"{r['ticketId']}: held back by {held}")
        for m in why["rules"]:
            lines.append(f"  {m['ruleName']}: passed {m['passedCount']}, failed {m['failedCount']}")
        lines.extend(f"  {reason}" for reason in why["reasons"])
    return lines


def ticket_json(book: TicketBook, ticket: TicketView, clock: Clock) -> dict[str, Any]:
    """One ticket for ``--json``. Keys are stable; absent facts are null."""
    answers = book.answers(ticket) if ticket.match_id else {}
    progress = book.progress(ticket)
    seconds_left = None
    if ticket.deadline is not None:
        seconds_left = max(0, math.floor((ticket.deadline - clock.now()).total_seconds()))
    return {
        "ticketId": ticket.ticket_id,
        "configurationName": ticket.configuration,
        "status": ticket.status.value,
        "players": [
            {
                "playerId": player,
                "team": team,
                "answer": answers[player].value if player in answers else None,
                "mine": player in book.players,
            }
            for player, team in ticket.players.items()
        ],
        "matchId": ticket.match_id,
        "progress": None if progress is None else {"accepted": progress[0], "total": progress[1]},
        "deadline": ticket.deadline.isoformat() if ticket.deadline else None,
        "deadlineEstimated": ticket.deadline_estimated,
        "secondsLeft": seconds_left,
        "gameSession": ticket.game_session,
    }


def _table(rows: list[dict[str, Any]]) -> str:
    header = ("TICKET", "CONFIGURATION", "STATUS", "ACCEPTED", "LEFT", "PLAYERS")
    lines = [header]
    for r in rows:
        progress = r["progress"]
        left = r["secondsLeft"]
        lines.append(
            (
                r["ticketId"],
                r["configurationName"] or "-",
                r["status"],
                f"{progress['accepted']}/{progress['total']}" if progress else "-",
                "-" if left is None else f"{'~' if r['deadlineEstimated'] else ''}{left}s",
                ", ".join(p["playerId"] + ("*" if p["mine"] else "") for p in r["players"]) or "-",
            )
        )
    widths = [max(len(line[i]) for line in lines) for i in range(len(header) - 1)]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(line[:-1], widths, strict=True)) + "  " + line[-1]
        for line in lines
    )


# --- lobby accept -------------------------------------------------------------------------------


def run_accept(args: argparse.Namespace) -> int:
    return _run(_accept(args))


async def _accept(args: argparse.Namespace) -> int:
    from lobby.cli import CliError

    name, profile = _profile()
    if not args.player and not profile.gamelift.players:
        raise CliError("say who answers: --player ID (or set gamelift.players in the profile)")
    backend = await _open(profile, None)
    async with backend:
        if args.reject:
            sentence = await backend.reject(args.ticket, args.player)
        else:
            sentence = await backend.accept(args.ticket, args.player)
    if args.json:
        doc = {
            "profile": name,
            "ticketId": args.ticket,
            "acceptanceType": "REJECT" if args.reject else "ACCEPT",
            "message": sentence,
        }
        return emit(json.dumps(doc, indent=2))
    return emit(sentence)
