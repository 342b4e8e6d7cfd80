"""`lobby emulator` and `lobby demo`."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lobby import paths
from lobby.cli import emit, port, seconds, whole_number
from lobby.core.events import EventSource

#: The environment variable that gives the emulator's control token (never the command line).
TOKEN_VAR = "LOBBY_EMULATOR_TOKEN"

if TYPE_CHECKING:
    from lobby.emulator.runtime import EmulatorConfig


def host(text: str) -> str:
    """An argparse ``type``: an address to bind, never empty (which would bind every interface
    without saying so)."""
    if not text.strip():
        raise argparse.ArgumentTypeError("give an address, like 127.0.0.1 (or 0.0.0.0 for every interface)")
    return text.strip()


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("emulator", help="serve the FlexMatch and TeamBattles emulator")
    p.add_argument(
        "--host",
        type=host,
        default="127.0.0.1",
        help="address to bind (default: loopback). Beyond loopback the /_emulator/* control "
        f"routes need a token: ${TOKEN_VAR}, or one made and printed once at start",
    )
    p.add_argument("--port", type=port, default=0, help="port to bind; 0 picks a free one")
    p.add_argument(
        "--db",
        default=None,
        help=f"SQLite file (default: {paths.default_emulator_db()}); ':memory:' keeps nothing",
    )
    p.add_argument("--scenario", type=Path, default=None, help="scenario JSON file")
    p.add_argument("--bots", action="store_true", help="run the scenario's demo bots")
    p.add_argument(
        "--verify-sigv4",
        action="store_true",
        help="verify AWS SigV4 signatures against credentials from the environment",
    )
    p.add_argument(
        "--time-travel",
        action="store_true",
        help="allow POST /_emulator/clock to move the emulator's clock forward (for tests)",
    )
    p.add_argument(
        "--faults",
        metavar="RATE[,KIND...]",
        default=None,
        help="inject faults into that share of FlexMatch and TeamBattles calls (0..1); kinds: "
        "500, 503, throttle, slow, drop (default: all). Also settable at /_emulator/faults",
    )
    p.add_argument(
        "--fault-seed", type=whole_number(0, 2**63 - 1), default=None, help="seed of the fault decisions"
    )
    p.add_argument(
        "--fault-delay",
        type=seconds(0, 60),
        default=0.5,
        metavar="SECONDS",
        help="how late a 'slow' fault answers (default: 0.5)",
    )
    p.add_argument(
        "--region",
        default="us-east-1",
        help="FlexMatch region of unsigned requests (signed ones use their credential scope's)",
    )
    p.add_argument("--account", default="123456789012", help="FlexMatch account id in ARNs and events")
    p.add_argument("--log-level", default="warning", choices=["debug", "info", "warning", "error"])
    p.set_defaults(func=run_emulator)

    d = sub.add_parser("demo", help="run the emulator with its demo bots and show the lobby live")
    d.add_argument("--db", default=":memory:", help="SQLite file (default: a fresh in-memory lobby)")
    d.add_argument("--scenario", type=Path, default=None, help="scenario JSON file")
    d.add_argument("--port", type=port, default=0, help="port to bind; 0 picks a free one")
    d.add_argument(
        "--log", action="store_true", help="print the lobby's events instead of opening the console"
    )
    d.set_defaults(func=run_demo)

    k = sub.add_parser(
        "demo-keys",
        help="list the TeamBattles API keys of the demo scenario and who owns them",
        description="List the scenario's TeamBattles test keys: value, owner, kind, plan, "
        "scopes, expiry. They only work against the emulator.",
    )
    k.add_argument("--scenario", type=Path, default=None, help="scenario JSON file")
    k.add_argument("--json", action="store_true", help="print JSON instead of a table")
    k.set_defaults(func=run_demo_keys)


def _config(args: argparse.Namespace, **extra: Any) -> EmulatorConfig:
    from lobby.cli import CliError
    from lobby.emulator.runtime import EmulatorConfig
    from lobby.emulator.scenario import ScenarioError, load_scenario

    try:
        scenario = load_scenario(args.scenario)  # fail early, with a plain sentence
    except ScenarioError as exc:
        raise CliError(str(exc)) from None
    notice = scenario.teambattles.raised_limits_notice()
    if notice is not None:  # whatever runs above the service's own limits says so
        from lobby.tui.safe import clean

        print(f"lobby: {clean(notice)}", file=sys.stderr, flush=True)
    db = args.db if args.db is not None else str(paths.default_emulator_db())
    _check_database(db)
    return EmulatorConfig(db=db, scenario=args.scenario, **extra)


#: SQLite's name for a database that lives in memory only.
IN_MEMORY = ":memory:"


def _check_database(db: str) -> None:
    """A --db the emulator can open, or one plain line saying why not (its folder is made)."""
    import sqlite3

    from lobby.cli import CliError

    if db == IN_MEMORY:
        return
    path = Path(db)
    if path.is_dir():
        raise CliError(f"--db {db} is a folder; give the path of a database file.")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise CliError(f"cannot make the folder of --db {db}: {exc.strerror or exc}") from None
    try:
        connection = sqlite3.connect(db)
        try:
            connection.execute("PRAGMA schema_version").fetchone()  # reads the file's header
        finally:
            connection.close()
    except sqlite3.Error as exc:
        raise CliError(f"cannot use {db} as the emulator's database: {exc}") from None


def run_emulator(args: argparse.Namespace) -> int:
    from lobby.cli import CliError
    from lobby.emulator.flexmatch.names import ACCOUNT_PATTERN, REGION_PATTERN
    from lobby.emulator.server import serve

    if not REGION_PATTERN.fullmatch(args.region):
        raise CliError(f"--region {args.region!r} is no AWS region name (such as us-east-1).")
    if not ACCOUNT_PATTERN.fullmatch(args.account):
        raise CliError("--account must be an AWS account id: twelve digits.")
    config = _config(
        args,
        region=args.region,
        account_id=args.account,
        verify_sigv4=args.verify_sigv4,
        time_travel=args.time_travel,
        bots=args.bots,
        control_token=os.environ.get(TOKEN_VAR) or None,
        **_fault_options(args),
    )
    try:
        serve(
            config,
            args.host,
            args.port,
            announce_file=paths.emulator_announcement(),
            log_level=args.log_level,
        )
    except OSError as exc:
        raise CliError(f"cannot listen on {args.host}:{args.port}: {exc.strerror or exc}") from None
    return 0


def _fault_options(args: argparse.Namespace) -> dict[str, object]:
    """EmulatorConfig fields from --faults, --fault-seed and --fault-delay."""
    from lobby.cli import CliError
    from lobby.emulator.faults import FaultError, parse_flag

    options: dict[str, object] = {"fault_seed": args.fault_seed, "fault_delay": args.fault_delay}
    if args.faults is not None:
        try:
            rate, kinds = parse_flag(args.faults)
        except FaultError as exc:
            raise CliError(str(exc)) from None
        options.update(fault_rate=rate, fault_kinds=kinds)
    return options


def run_demo(args: argparse.Namespace) -> int:
    """Start the emulator with bots and open the console on it (``--log``: print the lobby's
    life as it happens instead)."""
    from lobby.cli import CliError
    from lobby.emulator.server import EmulatorThread

    config = _config(args, bots=True)
    try:
        emulator = EmulatorThread(config, port=args.port)
    except OSError as exc:
        raise CliError(f"cannot listen on port {args.port}: {exc.strerror or exc}") from None
    announce = paths.emulator_announcement()
    with emulator:
        announce.parent.mkdir(parents=True, exist_ok=True)
        announce.write_text(json.dumps({"url": emulator.url, "pid": os.getpid()}))
        try:
            if args.log:
                _print_events(emulator.url)
            else:
                from lobby.cli.app import demo_app, demo_identity

                players, key, user = demo_identity(args.scenario)
                demo_app(emulator.url, players=players, key=key, user=user).run()
        except KeyboardInterrupt:
            print("\nlobby demo: stopped.", file=sys.stderr)
        finally:
            try:
                if json.loads(announce.read_text()).get("pid") == os.getpid():
                    announce.unlink()
            except (OSError, ValueError):
                pass
    return 0


def _print_events(url: str) -> None:
    import asyncio

    emit(f"lobby demo: emulator serving at {url} (Ctrl+C to stop)")
    emit("lobby demo: other lobby commands in this user account will find it.")
    asyncio.run(print_events(url))


async def print_events(url: str, *, stop_after: int | None = None) -> None:
    """Print a line for each event of the emulator at ``url`` from its first (``stop_after``
    events, else until interrupted), read with the one feed every adapter uses."""
    import contextlib

    import httpx

    from lobby.net.stream import EventFeed

    async with httpx.AsyncClient() as http:
        feed = EventFeed(http, url)
        async with contextlib.aclosing(feed.events()) as events:
            printed = 0
            async for event in events:
                emit(describe_event(event.type, event.data))  # ids are anyone's: made safe
                printed += 1
                if stop_after is not None and printed >= stop_after:
                    return


def describe_event(kind: str, payload: dict[str, Any]) -> str:
    """One human line for an event of either service."""
    stamp = datetime.fromtimestamp(time.time(), UTC).strftime("%H:%M:%S")
    if payload.get("source") == EventSource.GAMELIFT:
        detail = payload.get("detail", {})
        tickets = ", ".join(t.get("ticketId", "?") for t in detail.get("tickets", []))
        extra = ""
        if detail.get("acceptance"):
            extra = f" ({detail['acceptance']})"
        elif detail.get("reason"):
            extra = f" ({detail['reason']})"
        return f"{stamp}  FlexMatch    {detail.get('type', kind):<24}{extra} {tickets}"
    subject = payload.get("data", {}).get("match", {}).get("id") or payload.get("matchId", "")
    return f"{stamp}  TeamBattles  {kind:<24} {subject}"


def run_demo_keys(args: argparse.Namespace) -> int:
    """Print the scenario's TeamBattles keys with their owners, so a person can pick one."""
    from lobby.cli import CliError
    from lobby.emulator.scenario import ScenarioError, load_scenario
    from lobby.emulator.teambattles.scenario import SCOPES

    try:
        scenario = load_scenario(args.scenario).teambattles
    except ScenarioError as exc:
        raise CliError(str(exc)) from None
    users = {u.id: u for u in scenario.users}
    rows = []
    for key in scenario.keys:
        owner = users[key.owner]
        if key.revoked:
            state = "revoked"
        elif key.expires_in_days is None:
            state = "never expires"
        elif key.expires_in_days <= 0:
            state = "expired"
        else:
            state = f"expires {key.expires_in_days:g} days after seeding"
        levels = set(key.scopes.values())
        if set(key.scopes) == set(SCOPES) and len(levels) == 1:
            scopes = f"all {levels.pop()}"
        else:
            scopes = ", ".join(f"{name}:{level}" for name, level in sorted(key.scopes.items()))
        rows.append(
            {
                "key": key.key,
                "owner": owner.id,
                "username": owner.username,
                "kind": key.kind,
                "plan": key.plan,
                "scopes": key.scopes,
                "scopeSummary": scopes or "none",
                "state": state,
                "label": key.label,
            }
        )
    if args.json:
        return emit(json.dumps(rows, indent=2))
    if not rows:
        return emit("The scenario has no TeamBattles keys.")
    columns = [
        ("KEY", "key"),
        ("OWNER", "username"),
        ("KIND", "kind"),
        ("PLAN", "plan"),
        ("STATE", "state"),
        ("SCOPES", "scopeSummary"),
    ]
    from lobby.tui.safe import clean

    # A scenario file is anyone's text: no escape or control character reaches the terminal.
    cells = [{field: clean(r[field]) for _, field in columns} for r in rows]
    widths = [max(len(title), *(len(c[field]) for c in cells)) for title, field in columns]
    lines = ["  ".join(title.ljust(w) for (title, _), w in zip(columns, widths, strict=True)).rstrip()]
    for r, c in zip(rows, cells, strict=True):
        line = (c[field].ljust(w) for (_, field), w in zip(columns, widths, strict=True))
        lines.append("  ".join(line).rstrip())
        if r["label"]:
            lines.append(f"    {clean(r['label'])}")
    if scenario.you:
        you = users[scenario.you]
        lines.append(f"\nThe person at the demo is {clean(you.username)} ({clean(scenario.you)}).")
    lines.append("Use one with: export TEAMBATTLES_API_KEY=<key>  (test keys; they only work here).")
    return emit("\n".join(lines))
