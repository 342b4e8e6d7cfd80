"""`lobby matches`, `lobby accept-match` and `lobby my-requests`: TeamBattles from a shell.

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
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from lobby.core.offers import Offer
    from lobby.teambattles.backend import TeamBattlesBackend

T = TypeVar("T")


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
            "Prints the acceptanceId on success."
        ),
    )
    a.add_argument("match", metavar="MATCH", help="the match id")
    a.add_argument("--team", required=True, metavar="T", help="your team (id or slug)")
    a.add_argument(
        "--active", required=True, metavar="U,...", help="the active roster: user ids or usernames"
    )
    a.add_argument(
        "--bench",
        default="",
        metavar="U:PRIORITY,...",
        help="substitutes with their priority (1 first); a missing priority follows the order",
    )
    a.add_argument(
        "--map-mode",
        choices=["PREFERRED", "VETO"],
        type=str.upper,
        help="PREFERRED: --maps are maps you want; VETO: maps you do not want",
    )
    a.add_argument("--maps", default="", metavar="M,...", help="map ids, with --map-mode")
    a.add_argument("--message", default=None, metavar="TEXT", help="a note to the match's creator")
    a.set_defaults(func=run_accept_match)

    r = sub.add_parser(
        "my-requests", help="list the TeamBattles match requests you sent, with their status"
    )
    r.add_argument("--json", action="store_true", help="print JSON instead of one line each")
    r.add_argument(
        "--offline", action="store_true", help="show what is stored without asking the service"
    )
    r.set_defaults(func=run_my_requests)


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
    from lobby.core.offers import OfferKind

    async def fetch(backend: TeamBattlesBackend) -> tuple[list[Offer], datetime]:
        return await backend.list_offers(), backend.clock.now()

    offers, now = _run(fetch)
    if args.json:
        out = []
        for offer in offers:
            item = offer.model_dump(mode="json")
            item["startsInSeconds"] = (
                None if offer.deadline is None else round((offer.deadline - now).total_seconds())
            )
            out.append(item)
        print(json.dumps(out, indent=2))
        return 0
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
    print(_table(rows))
    return 0


def run_accept_match(args: argparse.Namespace) -> int:
    from lobby.cli import CliError
    from lobby.core.answers import AcceptanceDraft

    maps = _split(args.maps)
    if maps and args.map_mode is None:
        raise CliError("--maps needs --map-mode PREFERRED (maps you want) or VETO (maps you do not).")
    active = _split(args.active)
    if not active:
        raise CliError("--active needs at least one player.")
    draft = AcceptanceDraft.build(
        team_id=args.team.strip(),
        active_roster=active,
        bench=parse_bench(args.bench),
        map_mode=args.map_mode,
        selected_maps=maps,
        message=args.message,
    )

    async def send(backend: TeamBattlesBackend) -> str:
        record = await backend.send(args.match, draft)
        return f"Challenge {args.match} accepted." if record is None else record.acceptance_id

    from lobby.tui.safe import clean

    print(clean(_run(send)))  # ids and sentences are the network's: no escapes
    return 0


def run_my_requests(args: argparse.Namespace) -> int:
    from lobby.cli import CliError
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
        print(json.dumps([r.as_json() for r in records], indent=2))
        return 0
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
    print(_table(rows))
    return 0
