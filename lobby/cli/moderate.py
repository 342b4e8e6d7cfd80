"""`lobby moderate` and `lobby web`: the moderator's console, in a terminal or a browser.

``lobby moderate`` watches every live FlexMatch ticket and TeamBattles match, read-only: from the
running emulator's event stream (the default, or ``--emulator URL``), from the FlexMatch
notification topic through a queue of the console's own (``--sns-topic ARN``: every console sees
every event), from an SQS queue dedicated to this console (``--sqs QUEUE``, its URL or ARN; it
warns on signs of another reader), or from files of recorded events (``--replay FILE``, one JSON
event per line). ``--sqs`` and ``--sns-topic`` repeat and mix, for the queues and topics of
several regions (``--replay`` repeats too): their events are merged, each applied once, and the
region is a column of the table and a filter. The feeds are built in :mod:`lobby.cli.profiles`.

``lobby web`` serves the same console to a browser through textual-serve; ``lobby web --captain``
the captain's console instead (`lobby` on the configured profile, its secrets read by each
session from the environment, the keyring or the key file as in a terminal, never passed on a
command line), whose alerts become the browser's notifications. textual-serve has no access
control of its own: it listens on loopback only, and refuses any other address unless
``--behind-auth-proxy`` says the operator has put an authenticating proxy in front. Its page and
WebSocket answer only to the served origin and the ``--public-url`` one, and the browser sessions
(one console process each) are capped (see :mod:`lobby.cli.web`); on an ``--sqs`` queue, where
every reader takes messages from the others, to one.
"""

from __future__ import annotations

import argparse
import ipaddress
import shlex
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from lobby.cli import port, seconds, whole_number


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
        help="serve the moderator's (or with --captain the captain's) console to a browser "
        "(textual-serve, loopback only)",
        description="Serve `lobby moderate`, or with --captain `lobby`, to a web browser through "
        "textual-serve, one console per browser tab. It has no access control: it listens on "
        "loopback unless --behind-auth-proxy is given.",
    )
    w.add_argument(
        "--captain",
        action="store_true",
        help="serve the captain's console (`lobby` on the configured profile) instead of the "
        "moderator's; its alerts become the browser's notifications",
    )
    w.add_argument("--host", default="127.0.0.1", help="address to listen on (default: loopback)")
    w.add_argument("--port", type=port, default=8080, help="port to listen on (default: 8080)")
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
        type=whole_number(1, 64),
        default=None,
        help="browser sessions served at once (default: 8; 1 on an --sqs queue)",
    )
    _feed_arguments(w)
    w.set_defaults(func=run_web)


#: The kinds of feed, and the flags of each: feeds of one kind repeat and mix, kinds do not.
_FEED_KINDS = {"emulator": ("emulator",), "replay": ("replay",), "aws": ("sqs", "sns_topic")}


class _Feed(argparse.Action):
    """A feed flag: stored (``--emulator``) or appended (the others), refused beside another kind."""

    def __init__(self, option_strings: list[str], dest: str, *, kind: str, many: bool = True, **kwargs: object) -> None:
        self.kind = kind
        self.many = many
        super().__init__(option_strings, dest, **kwargs)  # type: ignore[arg-type]  # argparse's own keywords

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: object,
        option_string: str | None = None,
    ) -> None:
        for kind, dests in _FEED_KINDS.items():
            if kind == self.kind:
                continue
            for dest in dests:
                if getattr(namespace, dest, None):
                    other = "--" + dest.replace("_", "-")
                    parser.error(f"argument {option_string}: not allowed with argument {other}")
        if self.many:
            setattr(namespace, self.dest, [*(getattr(namespace, self.dest, None) or []), values])
        else:
            setattr(namespace, self.dest, values)


def _feed_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--emulator",
        metavar="URL",
        action=_Feed,
        kind="emulator",
        many=False,
        help="the emulator's base URL (default: the running `lobby demo` or `lobby emulator`)",
    )
    p.add_argument(
        "--sqs",
        metavar="QUEUE",
        action=_Feed,
        kind="aws",
        help="read FlexMatch notifications from this SQS queue, by URL or ARN (this console's alone); "
        "repeat it, and --sns-topic, for several queues and regions",
    )
    p.add_argument(
        "--sns-topic",
        metavar="ARN",
        action=_Feed,
        kind="aws",
        help="the FlexMatch notification topic: read it through a queue of this console's own, "
        "removed on exit; repeat it for several topics and regions",
    )
    p.add_argument(
        "--replay",
        metavar="FILE",
        type=Path,
        action=_Feed,
        kind="replay",
        help="recorded events, one JSON object per line; repeat it to merge several",
    )
    p.add_argument(
        "--raw-delivery",
        action="store_true",
        help="with --sns-topic: subscribe with raw message delivery (default: SNS envelopes; both are read)",
    )
    p.add_argument(
        "--region", help="AWS region of a queue whose URL names none (default: from each URL or ARN, else us-east-1)"
    )
    p.add_argument("--endpoint-url", metavar="URL", help="an SQS-compatible endpoint instead of AWS's")
    p.add_argument("--aws-profile", metavar="NAME", help="a named profile of ~/.aws/config")
    p.add_argument("--window", type=seconds(1, 86400), default=300.0, help="seconds of the sliding window of the figures")
    p.add_argument(
        "--keep-finished", type=seconds(1, 86400), default=300.0, help="seconds a finished ticket or match stays listed"
    )


# --- `lobby moderate` ------------------------------------------------------------------------------


def build_source(args: argparse.Namespace) -> ModerationSource:
    """The event source the arguments describe (the running emulator by default), built by the
    composition root: several queues, topics or recordings become one merged feed."""
    from lobby.cli import CliError, profiles

    if args.sqs or args.sns_topic:
        return profiles.aws_feed(
            args.sqs or (),
            args.sns_topic or (),
            region=args.region,
            endpoint_url=args.endpoint_url,
            aws_profile=args.aws_profile,
            raw_delivery=args.raw_delivery,
        )
    if args.replay:
        try:
            return profiles.merged_feed([profiles.replay_feed(path) for path in args.replay])
        except ValueError as exc:
            raise CliError(str(exc)) from None
    return profiles.emulator_feed(_emulator_url(args))


def _emulator_url(args: argparse.Namespace) -> str:
    """--emulator, else the running emulator's announced URL."""
    from lobby.cli import CliError, profiles
    from lobby.core.errors import NotConfigured

    try:
        return profiles.running_emulator(
            args.emulator,
            "no emulator is running: start `lobby demo` or `lobby emulator`, "
            "or give --emulator URL, --sqs QUEUE, --sns-topic ARN or --replay FILE",
        )
    except NotConfigured as exc:
        raise CliError(exc.message) from None


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
    feeds = [
        *([("--emulator", args.emulator)] if args.emulator else []),
        *(("--sqs", queue) for queue in args.sqs or ()),
        *(("--sns-topic", topic) for topic in args.sns_topic or ()),
        *(("--replay", str(path.resolve())) for path in args.replay or ()),
    ]
    given = [*feeds, ("--region", args.region), ("--endpoint-url", args.endpoint_url), ("--aws-profile", args.aws_profile)]
    for flag, value in given:
        if value:
            argv += [flag, str(value)]
    if args.raw_delivery:
        argv.append("--raw-delivery")
    argv += ["--window", str(args.window), "--keep-finished", str(args.keep_finished)]
    return shlex.join(argv)


def captain_command() -> str:
    """The `lobby` command line each browser session of `lobby web --captain` runs: the
    console on the configured profile, which reads its secrets itself (never in argv)."""
    return shlex.join([sys.executable, "-m", "lobby"])


#: The flags of `lobby web` that choose the moderator's feed, which --captain does not take.
_MODERATOR_ONLY = ("emulator", "sqs", "sns_topic", "replay", "raw_delivery", "region", "endpoint_url", "aws_profile")


def _check_captain(args: argparse.Namespace) -> None:
    """Refuse the moderator's feed flags, and a broken configuration, before serving anything
    (each session would only fail the same way)."""
    from lobby.cli import CliError, configured_settings

    given = ["--" + name.replace("_", "-") for name in _MODERATOR_ONLY if getattr(args, name, None)]
    if given:
        raise CliError(
            f"{', '.join(given)}: the moderator's feed; --captain serves `lobby` on the configured "
            "profile (choose it in config.toml or with LOBBY_PROFILE)"
        )
    configured_settings()


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
    if args.captain:
        _check_captain(args)
        captain = GuardedServer(
            captain_command(),
            host=args.host,
            port=args.port,
            title="lobby",
            public_url=args.public_url,
            loopback=is_loopback(args.host),
            max_sessions=args.max_sessions or MAX_SESSIONS,
            notifications=True,
        )
        print(f"lobby web: serving the captain's console at {captain.public_url}", flush=True)
        captain.serve()
        return 0
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
        max_sessions=sessions,
    )
    print(f"lobby web: serving the moderator's console at {server.public_url}", flush=True)
    server.serve()
    return 0
