"""`lobby moderate` and `lobby web`: the moderator's console, in a terminal or a browser.

``lobby moderate`` watches every live FlexMatch ticket and TeamBattles match, read-only: from the
running emulator's event stream (the default, or ``--emulator URL``), from the FlexMatch
notification topic through a queue of the console's own (``--sns-topic ARN``: every console sees
every event), from an SQS queue dedicated to this console (``--sqs QUEUE_URL``; it warns on signs
of another reader), or from a file of recorded events (``--replay FILE``, one JSON event per line).

``lobby web`` serves the same console to a browser through textual-serve. textual-serve has no
access control of its own: it listens on loopback only, and refuses any other address unless
``--behind-auth-proxy`` says the operator has put an authenticating proxy in front. Its page and
WebSocket answer only to the served origin and the ``--public-url`` one, and the browser sessions
(one `lobby moderate` each) are capped (see :mod:`lobby.cli.web`); on an ``--sqs`` queue, where
every reader takes messages from the others, to one.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import shlex
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from lobby import paths

if TYPE_CHECKING:
    from lobby.moderation.sources import ModerationSource


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    m = sub.add_parser(
        "moderate",
        help="watch every live FlexMatch ticket and TeamBattles match (read-only)",
        description="The moderator's console: every live ticket and match, filtered and sorted, "
        "with the timeline of each and live figures. Read-only.",
    )
    _feed_arguments(m)
    m.set_defaults(func=run_moderate)

    w = sub.add_parser(
        "web",
        help="serve the moderator's console to a browser (textual-serve, loopback only)",
        description="Serve `lobby moderate` to a web browser through textual-serve. It has no "
        "access control: it listens on loopback unless --behind-auth-proxy is given.",
    )
    w.add_argument("--host", default="127.0.0.1", help="address to listen on (default: loopback)")
    w.add_argument("--port", type=int, default=8080, help="port to listen on (default: 8080)")
    w.add_argument(
        "--public-url", default=None, help="the URL people reach the server at, when it differs (a proxy)"
    )
    w.add_argument(
        "--behind-auth-proxy",
        action="store_true",
        help="allow a non-loopback --host: an authenticating proxy stands in front of this server",
    )
    w.add_argument(
        "--max-sessions",
        type=int,
        default=None,
        help="browser sessions served at once (default: 8; 1 on an --sqs queue)",
    )
    _feed_arguments(w)
    w.set_defaults(func=run_web)


def _feed_arguments(p: argparse.ArgumentParser) -> None:
    source = p.add_mutually_exclusive_group()
    source.add_argument(
        "--emulator", metavar="URL", help="the emulator's base URL (default: the running `lobby demo` or `lobby emulator`)"
    )
    source.add_argument(
        "--sqs", metavar="QUEUE_URL", help="read FlexMatch notifications from this SQS queue (this console's alone)"
    )
    source.add_argument(
        "--sns-topic",
        metavar="ARN",
        help="the FlexMatch notification topic: read it through a queue of this console's own, "
        "removed on exit",
    )
    source.add_argument("--replay", metavar="FILE", type=Path, help="recorded events, one JSON object per line")
    p.add_argument(
        "--raw-delivery",
        action="store_true",
        help="with --sns-topic: subscribe with raw message delivery (default: SNS envelopes; both are read)",
    )
    p.add_argument("--region", help="AWS region of the queue or topic (default: from the URL or ARN)")
    p.add_argument("--endpoint-url", metavar="URL", help="an SQS-compatible endpoint instead of AWS's")
    p.add_argument("--aws-profile", metavar="NAME", help="a named profile of ~/.aws/config")
    p.add_argument("--window", type=float, default=300.0, help="seconds of the sliding window of the figures")
    p.add_argument(
        "--keep-finished", type=float, default=300.0, help="seconds a finished ticket or match stays listed"
    )


# --- `lobby moderate` ------------------------------------------------------------------------------


def build_source(args: argparse.Namespace) -> ModerationSource:
    """The event source the arguments describe (the running emulator by default)."""
    from lobby.cli import CliError

    if args.sns_topic:
        from lobby.moderation.sns import TopicSource

        return TopicSource(
            args.sns_topic,
            region=args.region,
            endpoint_url=args.endpoint_url,
            aws_profile=args.aws_profile,
            raw_delivery=args.raw_delivery,
        )
    if args.sqs:
        from lobby.moderation.sqs import SqsSource

        return SqsSource(args.sqs, region=args.region, endpoint_url=args.endpoint_url, aws_profile=args.aws_profile)
    if args.replay is not None:
        from lobby.moderation.sources import ReplaySource

        try:
            lines = args.replay.read_text("utf-8").splitlines()
        except OSError as exc:
            raise CliError(f"cannot read {args.replay}: {exc.strerror or exc}") from None
        items = []
        for number, line in enumerate(lines, 1):
            if line.strip():
                try:
                    items.append(json.loads(line))
                except ValueError:
                    raise CliError(f"{args.replay}:{number} is not a JSON object") from None
        return ReplaySource(items, description=f"recorded events from {args.replay.name}")
    from lobby.moderation.sources import EmulatorSource

    return EmulatorSource(_emulator_url(args))


def _emulator_url(args: argparse.Namespace) -> str:
    """--emulator, else the running emulator's announced URL."""
    from lobby.cli import CliError

    url = args.emulator or paths.read_emulator_announcement()
    if not url:
        raise CliError(
            "no emulator is running: start `lobby demo` or `lobby emulator`, "
            "or give --emulator URL, --sqs QUEUE_URL or --replay FILE"
        )
    return url


def run_moderate(args: argparse.Namespace) -> int:
    from lobby.tui.moderator.app import ModeratorApp

    source = build_source(args)
    app = ModeratorApp(source, clock=source.clock, window=args.window, keep_finished=args.keep_finished)
    app.run()
    # Textual sets a non-zero return code when the app stopped on an error.
    return app.return_code or 0


# --- `lobby web` -----------------------------------------------------------------------------------


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def moderate_command(args: argparse.Namespace) -> str:
    """The `lobby moderate` command line each browser session runs."""
    argv = [sys.executable, "-m", "lobby", "moderate"]
    given = {
        "--emulator": args.emulator,
        "--sqs": args.sqs,
        "--sns-topic": args.sns_topic,
        "--region": args.region,
        "--endpoint-url": args.endpoint_url,
        "--aws-profile": args.aws_profile,
    }
    for flag, value in given.items():
        if value:
            argv += [flag, str(value)]
    if args.raw_delivery:
        argv.append("--raw-delivery")
    if args.replay is not None:
        argv += ["--replay", str(args.replay.resolve())]
    argv += ["--window", str(args.window), "--keep-finished", str(args.keep_finished)]
    return shlex.join(argv)


def run_web(args: argparse.Namespace) -> int:
    from lobby.cli import CliError

    if not is_loopback(args.host) and not args.behind_auth_proxy:
        raise CliError(
            f"refusing to listen on {args.host}: textual-serve has no access control. Keep the "
            "default loopback address, or put an authenticating proxy in front and pass "
            "--behind-auth-proxy"
        )
    try:
        from lobby.cli.web import MAX_SESSIONS, GuardedServer
    except ImportError:
        raise CliError("`lobby web` needs textual-serve: pip install textual-serve") from None
    if not (args.emulator or args.sqs or args.sns_topic or args.replay):
        args.emulator = _emulator_url(args)  # fixed now, for every session
    sessions = args.max_sessions or (1 if args.sqs else MAX_SESSIONS)
    if args.sqs and sessions > 1:
        print(
            "lobby web: warning: every session reads the SQS queue and takes messages from the "
            "others; each will miss events (use --sns-topic for a queue per session)",
            file=sys.stderr,
            flush=True,
        )
    server = GuardedServer(
        moderate_command(args),
        host=args.host,
        port=args.port,
        title="lobby moderator",
        public_url=args.public_url,
        loopback=is_loopback(args.host),
        max_sessions=max(1, sessions),
    )
    print(f"lobby web: serving the moderator's console at {server.public_url}", flush=True)
    server.serve()
    return 0
