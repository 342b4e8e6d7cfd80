"""TeamBattles from a shell: `lobby matches`, `lobby accept-match`, `lobby accept-challenge`,
`lobby refuse-challenge` and `lobby my-requests`.

Answers go through the same backend as the console's (its desk gathers the facts, its sender
judges the draft with the shared rules and sends it once), so a draft the console would refuse
is refused here in the same words, before anything is sent. ``--json`` of an answer prints
``{"matchId", "answer" ("request", "challenge-accepted" or "challenge-refused"),
"acceptanceId" (a request's), "teamId", "message"}``.

The API key comes from TEAMBATTLES_API_KEY, the OS keyring or the profile's key file, never
from the command line, and is never printed. With the emulator profile (the default), the
commands talk to the emulator this user account is running (`lobby demo` / `lobby emulator`).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from lobby.core.answers import AcceptanceDraft
    from lobby.core.offers import Offer
    from lobby.teambattles.backend import TeamBattlesBackend

T = TypeVar("T")

#: ``answer`` in the --json document of accept-match, accept-challenge and refuse-challenge.
REQUEST, CHALLENGE_ACCEPTED, CHALLENGE_REFUSED = "request", "challenge-accepted", "challenge-refused"


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add this area's sub-commands."""
    p = sub.add_parser("matches", help="list open TeamBattles matches and challenges you can answer")
    p.add_argument("--json", action="store_true", help="print JSON instead of one line per match")
    p.set_defaults(func=run_matches)

    a = sub.add_parser(
        "accept-match",
        help="ask to play an open TeamBattles match (or take up a challenge) with your team",
        description=(
            "Send a match acceptance request as the owner of the API key, who must lead the team. "
            "Prints the acceptanceId on success. Given a challenge to your team (and only a "
            "roster), it takes the challenge up."
        ),
    )
    a.add_argument("match", metavar="MATCH", help="the match id")
    a.add_argument("--team", required=True, metavar="T", help="your team (id or slug)")
    _roster_arguments(a)
    a.add_argument(
        "--map-mode",
        choices=["PREFERRED", "VETO"],
        type=str.upper,
        help="PREFERRED: --maps are maps you want; VETO: maps you do not want",
    )
    a.add_argument("--maps", default="", metavar="M,...", help="map ids, with --map-mode")
    a.add_argument("--message", default=None, metavar="TEXT", help="a note to the match's creator")
    a.add_argument(
        "--rule",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a disputed rule to agree on (repeatable); VALUE as in the console: text, 3, 1.5, "
        "true, false or [a, b]",
    )
    _json_argument(a)
    a.set_defaults(func=run_accept_match)

    c = sub.add_parser(
        "accept-challenge",
        help="take up a direct TeamBattles challenge to your team with a roster",
        description="Accept a direct challenge to a team you lead, with its active roster and "
        "bench. The match is on at once.",
    )
    c.add_argument("match", metavar="MATCH", help="the challenge's match id")
    c.add_argument(
        "--team", default=None, metavar="T", help="your team (id or slug; default: the challenged team)"
    )
    _roster_arguments(c)
    _json_argument(c)
    c.set_defaults(func=run_accept_challenge)

    f = sub.add_parser(
        "refuse-challenge",
        help="refuse a direct TeamBattles challenge to your team",
        description="Refuse a direct challenge to a team you lead; the challenger is told and "
        "the match will not be played.",
    )
    f.add_argument("match", metavar="MATCH", help="the challenge's match id")
    f.add_argument("--reason", default=None, metavar="TEXT", help="why, for the challenger")
    _json_argument(f)
    f.set_defaults(func=run_refuse_challenge)

    r = sub.add_parser(
        "my-requests", help="list the TeamBattles match requests you sent, with their status"
    )
    r.add_argument("--json", action="store_true", help="print JSON instead of one line each")
    r.add_argument(
        "--offline", action="store_true", help="show what is stored without asking the service"
    )
    r.set_defaults(func=run_my_requests)


def _roster_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--active", required=True, metavar="U,...", help="the active roster: user ids or usernames"
    )
    parser.add_argument(
        "--bench",
        default="",
        metavar="U:PRIORITY,...",
        help="substitutes with their priority (1 first); a missing priority follows the order",
    )


def _json_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--json",
        action="store_true",
        help="print one JSON document: matchId, answer, acceptanceId, teamId, message",
    )


# --- helpers ---------------------------------------------------------------------------------------


def _split(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def parse_bench(text: str) -> list[tuple[str, float]]:
    """``"u7:1,u8:2"`` -> ``[("u7", 1.0), ("u8", 2.0)]``; a missing priority follows the order."""
    from lobby.cli import CliError

    out: list[tuple[str, float]] = []
    for position, item in enumerate(_split(text), start=1):
        user, sep, priority = item.partition(":")
        user = user.strip()
        if not user:
            raise CliError(f"--bench entry {item!r} names no user; write USER:PRIORITY.")
        if not sep:
            out.append((user, float(position)))
            continue
        try:
            value = float(priority)
        except ValueError:
            raise CliError(
                f"--bench entry {item!r}: the priority must be a number, like {user}:1."
            ) from None
        out.append((user, value))
    return out


def _run(make: Callable[[TeamBattlesBackend], Awaitable[T]]) -> T:
    """Open the backend of the active profile, run ``make(backend)``, close it; every backend
    failure becomes one plain line."""
    from lobby.cli import CliError
    from lobby.cli.profiles import open_teambattles
    from lobby.core.errors import BackendError

    async def main() -> T:
        backend = open_teambattles()
        try:
            return await make(backend)
        finally:
            await backend.aclose()

    try:
        return asyncio.run(main())
    except BackendError as exc:
        raise CliError(exc.message) from None


def starts_in(when: datetime | None, now: datetime) -> str:
    if when is None:
        return "no start time"
    left = when - now
    if left <= timedelta(0):
        return "started"
    minutes = int(left.total_seconds() // 60)
    if minutes < 1:
        return "in <1 min"
    if minutes < 60:
        return f"in {minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"in {hours} h {minutes:02d} min"
    return f"in {hours // 24} d"


def ago(when: datetime, now: datetime) -> str:
    seconds = max(0, int((now - when).total_seconds()))
    if seconds < 60:
        return "just now"
    if seconds < 3600:
        return f"{seconds // 60} min ago"
    if seconds < 172800:
        return f"{seconds // 3600} h ago"
    return f"{seconds // 86400} d ago"


def _table(rows: list[list[str]]) -> str:
    from lobby.tui.safe import clean

    if not rows:
        return ""
    rows = [[clean(cell) for cell in row] for row in rows]  # names are the network's: no escapes
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "\n".join(
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in rows
    )


# --- commands --------------------------------------------------------------------------------------


def run_matches(args: argparse.Namespace) -> int:
    from lobby.cli import emit
    from lobby.core.offers import OfferKind, offer_json

    async def fetch(backend: TeamBattlesBackend) -> tuple[list[Offer], datetime]:
        return await backend.list_offers(), backend.clock.now()

    offers, now = _run(fetch)
    if args.json:
        out = []
        for offer in offers:
            item = offer_json(offer)
            item["startsInSeconds"] = (
                None if offer.deadline is None else round((offer.deadline - now).total_seconds())
            )
            out.append(item)
        return emit(json.dumps(out, indent=2))
    if not offers:
        print("No open matches right now.", file=sys.stderr)
        return 0
    rows = []
    for offer in offers:
        f = offer.facts
        creator = f.get("creatorTeam", "")
        if offer.kind is OfferKind.TEAMBATTLES_CHALLENGE:
            creator += f" (challenges {f.get('challengedTeam', 'you')})"
        size = f.get("teamSize", "?")
        when = starts_in(offer.deadline, now)
        rows.append([offer.id, f.get("game", ""), f.get("mode", ""), f"{size}v{size}", when, creator])
    return emit(_table(rows))


def parse_rules(items: list[str]) -> dict[str, Any]:
    """``["overtime=true", "maps=[a, b]"]`` -> ``{"overtime": True, "maps": ["a", "b"]}``: each
    value read as the console reads it; the shared rules judge names and values when sending."""
    from lobby.cli import CliError

    if not items:
        return {}
    from lobby.core.answers import parse_value  # read as the console reads it

    rules: dict[str, Any] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep:
            raise CliError(f"--rule {item!r} gives no value; write NAME=VALUE, like overtime=true.")
        rules[name.strip()] = parse_value(value)
    return rules


def _roster(args: argparse.Namespace, team_id: str) -> AcceptanceDraft:
    """The draft of ``--active`` and ``--bench`` for ``team_id``."""
    from lobby.cli import CliError
    from lobby.core.answers import AcceptanceDraft

    if not team_id:
        raise CliError("--team needs your team's id or slug.")
    active = _split(args.active)
    if not active:
        raise CliError("--active needs at least one player.")
    return AcceptanceDraft.build(team_id=team_id, active_roster=active, bench=parse_bench(args.bench))


async def _challenged(backend: TeamBattlesBackend, match_id: str) -> str | None:
    """The id of the team ``match_id`` challenges (None for an open match), from the match as
    the desk holds it: the answer that follows reads it from there, not again."""
    challenged = (await backend.desk.match(match_id)).challenged_team
    return None if challenged is None else challenged.id


async def _challenge(backend: TeamBattlesBackend, match_id: str) -> str | None:
    """:func:`_challenged`, for a command that answers a challenge: a match the service no
    longer shows the key (a challenge answered or withdrawn is no longer its team's to read)
    is said as such, not as the service's "only its teams may read it"."""
    from lobby.cli import CliError
    from lobby.core.errors import NotFound, PermissionDenied

    try:
        return await _challenged(backend, match_id)
    except (NotFound, PermissionDenied):
        raise CliError(
            f"Match {match_id} is no longer a challenge your teams can answer: answered already, "
            "withdrawn, or not to a team of yours."
        ) from None


def _answered(
    args: argparse.Namespace,
    answer: str,
    message: str,
    *,
    team_id: str | None = None,
    acceptance_id: str | None = None,
) -> int:
    """Print what was done: ``message``, or with --json one document of the answer."""
    from lobby.cli import emit

    if not args.json:
        return emit(message)
    doc = {
        "matchId": args.match,
        "answer": answer,
        "acceptanceId": acceptance_id,
        "teamId": team_id,
        "message": message,
    }
    return emit(json.dumps(doc, indent=2))


def run_accept_match(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from lobby.cli import CliError, emit
    from lobby.core.answers import MapPreferenceMode
    from lobby.teambattles.requests import AcceptanceRecord

    maps = _split(args.maps)
    if maps and args.map_mode is None:
        raise CliError("--maps needs --map-mode PREFERRED (maps you want) or VETO (maps you do not).")
    draft = replace(
        _roster(args, args.team.strip()),
        map_mode=None if args.map_mode is None else MapPreferenceMode(args.map_mode),
        selected_maps=tuple(maps),
        message=args.message,
        disputed_rules=parse_rules(args.rule),
    )
    # Maps, a message and disputed rules belong to a request; a challenge is taken up with a
    # roster only, so a draft that has them is a request (and refused for a challenge).
    as_request = bool(maps or args.message is not None or draft.disputed_rules)

    async def send(backend: TeamBattlesBackend) -> AcceptanceRecord | str | None:
        if as_request:
            return await backend.submit(args.match, draft)
        challenged = await _challenged(backend, args.match)
        return await backend.send(args.match, draft) or challenged

    record = _run(send)
    if not isinstance(record, AcceptanceRecord):  # a challenge taken up by the challenged team
        sentence = f"Challenge {args.match} accepted."
        return _answered(args, CHALLENGE_ACCEPTED, sentence, team_id=record)
    if not args.json:
        return emit(record.acceptance_id)  # the id alone, for scripts that read it
    sentence = f"Request {record.acceptance_id} sent for match {args.match}; waiting for the creator's answer."
    return _answered(args, REQUEST, sentence, team_id=record.team_id, acceptance_id=record.acceptance_id)


def run_accept_challenge(args: argparse.Namespace) -> int:
    from lobby.cli import CliError

    async def accept(backend: TeamBattlesBackend) -> str:
        challenged = await _challenge(backend, args.match)
        if challenged is None:
            raise CliError(
                f"Match {args.match} is an open match, not a challenge: ask to play it with "
                "lobby accept-match."
            )
        await backend.accept_challenge(args.match, _roster(args, args.team.strip() if args.team else challenged))
        return challenged

    team_id = _run(accept)
    sentence = f"Challenge {args.match} accepted; the match is on."
    return _answered(args, CHALLENGE_ACCEPTED, sentence, team_id=team_id)


def run_refuse_challenge(args: argparse.Namespace) -> int:
    async def refuse(backend: TeamBattlesBackend) -> tuple[str, str | None]:
        challenged = await _challenge(backend, args.match)  # an open match: refused by reject
        return await backend.reject(args.match, args.reason), challenged

    sentence, team_id = _run(refuse)
    return _answered(args, CHALLENGE_REFUSED, sentence, team_id=team_id)


def run_my_requests(args: argparse.Namespace) -> int:
    from lobby.cli import CliError, emit
    from lobby.cli.profiles import open_teambattles, stored_requests
    from lobby.core.errors import BackendError, NotConfigured

    # The records of the profile (an emulator's belong to that emulator instance, as the
    # console's and the demo's do).
    try:
        store = stored_requests()
    except NotConfigured as exc:
        raise CliError(exc.message) from None
    now = datetime.now().astimezone()
    warning = None
    if not args.offline:

        async def refresh() -> datetime:
            backend = open_teambattles()
            try:
                await backend.refresh_requests()
                return backend.clock.now()
            finally:
                await backend.aclose()

        try:
            now = asyncio.run(refresh())
        except BackendError as exc:
            warning = f"lobby: showing stored statuses; could not refresh them: {exc.message}"
    records = store.all()
    if warning:
        from lobby.tui.safe import clean

        print(clean(warning), file=sys.stderr)
    if args.json:
        return emit(json.dumps([r.as_json() for r in records], indent=2))
    if not records:
        print("No match requests sent yet.", file=sys.stderr)
        return 0
    rows = [
        [
            r.acceptance_id,
            r.match_id,
            r.team_id,
            r.status.value.lower(),
            ago(r.submitted_at, now),
            r.note or "",
        ]
        for r in records
    ]
    return emit(_table(rows))
