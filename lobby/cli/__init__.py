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
    from lobby.cli import emulator, flexmatch, moderate, rulelab, teambattles

    parser = argparse.ArgumentParser(
        prog="lobby",
        description="Answer GameLift FlexMatch and TeamBattles match offers before they expire.",
    )
    parser.add_argument("--version", action="version", version=f"lobby {__version__}")
    parser.set_defaults(func=None)  # no sub-command: the console
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for area in (emulator, flexmatch, rulelab, teambattles, moderate):
        area.register(sub)
    return parser


#: Option names that would carry a secret; lobby has none of them, and says why.
_SECRET_OPTIONS = ("--key", "--api-key", "--apikey", "--token", "--secret", "--password")


def _looks_like_a_key(word: str) -> bool:
    """A TeamBattles key (``tb_...``), alone or as an option's value, or a secret-bearing option."""
    name, _, value = word.partition("=")
    if name.lower() in _SECRET_OPTIONS or name.lower().startswith(_SECRET_OPTIONS[1:]):
        return True
    return word.startswith("tb_") or value.startswith("tb_")


def main(argv: Sequence[str] | None = None) -> int:
    collecting = gc.isenabled()
    try:
        return _main(argv)
    finally:
        if collecting:
            gc.enable()


def _main(argv: Sequence[str] | None) -> int:
    words = list(sys.argv[1:] if argv is None else argv)
    if not words:
        args = argparse.Namespace(command=None, func=None)  # no need to load every sub-command
    else:
        if any(_looks_like_a_key(word) for word in words):
            # Refused before argparse, which would echo the word back in its error.
            print(
                "lobby: an API key never goes on the command line (other users can read it there); "
                "set TEAMBATTLES_API_KEY, store it in the OS keyring, or use the profile's key_file.",
                file=sys.stderr,
            )
            return 2
        args = build_parser().parse_args(words)
    if args.func is None:
        # `lobby` alone opens the console. While it starts, the cyclic garbage collector would
        # walk the objects that imports create again and again (about a fifth of the start-up
        # CPU, for next to no garbage): it is off until the console is up
        # (lobby.cli.app.start_up_over).
        gc.disable()
        from lobby.cli.app import run_app

        args.func = run_app
    try:
        return int(args.func(args) or 0)
    except CliError as exc:
        from lobby.tui.safe import clean

        print(f"lobby: {clean(str(exc), multiline=True)}", file=sys.stderr)  # may quote a server
        return 1
    except ValueError as exc:  # pydantic's ValidationError of the settings, never echoing values
        from pydantic import ValidationError

        if not isinstance(exc, ValidationError) or exc.title != "Settings":
            raise
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        print(f"lobby: the lobby settings are invalid at {where}: {first['msg']}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
