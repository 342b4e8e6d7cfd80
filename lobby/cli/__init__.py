"""The `lobby` command: wiring only. Each area registers its own sub-commands."""

from __future__ import annotations

import argparse
import gc
import sys
from collections.abc import Sequence

from lobby import __version__


class CliError(Exception):
    """An error for the person at the terminal: printed as one plain line, exit status 1."""


def build_parser() -> argparse.ArgumentParser:
    from lobby.cli import emulator, flexmatch, moderate, teambattles

    parser = argparse.ArgumentParser(
        prog="lobby",
        description="Answer GameLift FlexMatch and TeamBattles match offers before they expire.",
    )
    parser.add_argument("--version", action="version", version=f"lobby {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for area in (emulator, flexmatch, teambattles, moderate):
        area.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    collecting = gc.isenabled()
    try:
        return _main(argv)
    finally:
        if collecting:
            gc.enable()


def _main(argv: Sequence[str] | None) -> int:
    if not (sys.argv[1:] if argv is None else argv):
        # `lobby` alone opens the console: no need to load every sub-command first. While it
        # starts, the cyclic garbage collector would walk the objects that imports create again
        # and again (about a fifth of the start-up CPU, for next to no garbage): it is off until
        # the console is up (lobby.cli.app.start_up_over).
        gc.disable()
        from lobby.cli.app import run_app

        args = argparse.Namespace(command=None, func=run_app)
    else:
        args = build_parser().parse_args(argv)
    if getattr(args, "func", None) is None:
        from lobby.cli.app import run_app

        args.func = run_app  # `lobby` alone opens the console
    try:
        return int(args.func(args) or 0)
    except CliError as exc:
        print(f"lobby: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
