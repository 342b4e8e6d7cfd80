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
from lobby.core.events import EventSource

#: The environment variable that gives the emulator's control token (never the command line).
TOKEN_VAR = "LOBBY_EMULATOR_TOKEN"

if TYPE_CHECKING:
    from lobby.emulator.runtime import EmulatorConfig


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("emulator", help="serve the FlexMatch and TeamBattles emulator")
    p.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to bind (default: loopback). Beyond loopback the /_emulator/* control "
        f"routes need a token: ${TOKEN_VAR}, or one made and printed once at start",
    )
    p.add_argument("--port", type=int, default=0, help="port to bind; 0 picks a free one")
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
    p.add_argument("--fault-seed", type=int, default=None, help="seed of the fault decisions")
    p.add_argument(
        "--fault-delay",
        type=float,
        default=0.5,
        metavar="SECONDS",
        help="how late a 'slow' fault answers (default: 0.5)",
    )
    p.add_argument("--log-level", default="warning", choices=["debug", "info", "warning", "error"])
    p.set_defaults(func=run_emulator)

    d = sub.add_parser("demo", help="run the emulator with its demo bots and show the lobby live")
    d.add_argument("--db", default=":memory:", help="SQLite file (default: a fresh in-memory lobby)")
    d.add_argument("--scenario", type=Path, default=None, help="scenario JSON file")
    d.add_argument("--port", type=int, default=0, help="port to bind; 0 picks a free one")
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

    if args.scenario is not None:
        try:
            load_scenario(args.scenario)  # fail early, with a plain sentence
        except ScenarioError as exc:
            raise CliError(str(exc)) from None
    db = args.db if args.db is not None else str(paths.default_emulator_db())
    return EmulatorConfig(db=db, scenario=args.scenario, **extra)


def run_emulator(args: argparse.Namespace) -> int:
    from lobby.cli import CliError
    from lobby.emulator.server import serve

    if not 0 <= args.port <= 65535:
        raise CliError("--port must be between 0 and 65535.")
    config = _config(
        args,
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

    if args.fault_seed is not None and not 0 <= args.fault_seed < 2**63:
        raise CliError("--fault-seed must be between 0 and 2**63-1.")
    if not 0.0 <= args.fault_delay <= 60.0:
        raise CliError("--fault-delay must be between 0 and 60 seconds.")
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

    print(f"lobby demo: emulator serving at {url} (Ctrl+C to stop)", flush=True)
    print("lobby demo: other lobby commands in this user account will find it.", flush=True)
    asyncio.run(print_events(url))


async def print_events(url: str, *, stop_after: int | None = None) -> None:
    """Print a line for each event of the emulator at ``url`` from its first (``stop_after``
    events, else until interrupted), read with the one feed every adapter uses."""
    import contextlib

    import httpx

    from lobby.net.stream import EventFeed
    from lobby.tui.safe import clean

    async with httpx.AsyncClient() as http:
        feed = EventFeed(http, url)
        async with contextlib.aclosing(feed.events()) as events:
            printed = 0
            async for event in events:
                # Events carry anyone's text: no escape or control character reaches the terminal.
                print(clean(describe_event(event.type, event.data)), flush=True)
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
        print(json.dumps(rows, indent=2))
        return 0
    if not rows:
        print("The scenario has no TeamBattles keys.")
        return 0
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
    print("  ".join(title.ljust(w) for (title, _), w in zip(columns, widths, strict=True)).rstrip())
    for r, c in zip(rows, cells, strict=True):
        line = (c[field].ljust(w) for (_, field), w in zip(columns, widths, strict=True))
        print("  ".join(line).rstrip())
        if r["label"]:
            print(f"    {clean(r['label'])}")
    if scenario.you:
        you = users[scenario.you]
        print(f"\nThe person at the demo is {clean(you.username)} ({clean(scenario.you)}).")
    print("Use one with: export TEAMBATTLES_API_KEY=<key>  (test keys; they only work here).")
    return 0
