"""The `lobby` command: wiring only. Each area registers its own sub-commands."""

from __future__ import annotations

import gc
import math
import os
import re
import sys
from collections.abc import Callable, Sequence
from types import SimpleNamespace
from typing import TYPE_CHECKING, NoReturn

from lobby import __version__

if TYPE_CHECKING:
    import argparse

    from lobby.config_schema import Settings


class CliError(Exception):
    """An error for the person at the terminal: printed as one plain line, exit status 1."""


def configured_settings() -> Settings:
    """The settings, with their chosen profile checked. A config file that cannot be read
    (one line: the file, the line and the column) or an unknown profile is a
    :class:`CliError`; a setting that is not valid is re-raised, for :func:`main` to say
    which setting in one line."""
    from lobby.config_schema import Settings

    try:
        settings = Settings.load()
        settings.active()
    except ValueError as exc:  # ConfigError, an unknown profile, or a setting not valid
        from pydantic import ValidationError

        if isinstance(exc, ValidationError):
            raise
        raise CliError(str(exc)) from None
    return settings


def build_parser() -> argparse.ArgumentParser:
    """The parser of every sub-command (argparse is imported here: `lobby` alone, the console,
    needs none of it)."""
    import argparse

    from lobby.cli import emulator, flexmatch, moderate, places, rulelab, teambattles

    class Parser(argparse.ArgumentParser):
        """argparse, with a mistake on the command line said in one plain line (exit status 2)
        instead of the usage block and a line: ``--help`` shows the usage."""

        def error(self, message: str) -> NoReturn:
            from lobby.tui.safe import clean

            self.exit(2, f"{self.prog}: {clean(message)} (see: {self.prog} --help)\n")

    parser = Parser(
        prog="lobby",
        description="Answer GameLift FlexMatch and TeamBattles match offers before they expire.",
    )
    parser.add_argument("--version", action="version", version=f"lobby {__version__}")
    parser.set_defaults(func=None)  # no sub-command: the console
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for area in (emulator, flexmatch, rulelab, teambattles, moderate, places):
        area.register(sub)
    return parser


# --- argument types: a value out of range is a command-line mistake, said by argparse -------------


def whole_number(low: int, high: int, what: str = "a whole number") -> Callable[[str], int]:
    """An argparse ``type``: a whole number from ``low`` to ``high``."""

    def parse(text: str) -> int:
        import argparse  # loaded by then: parse runs while parsing

        try:
            value = int(text.strip())
        except ValueError:
            value = None
        if value is None or not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{text!r} is not {what} from {low} to {high}")
        return value

    return parse


#: An argparse ``type``: a TCP port (0 lets the system pick a free one).
port = whole_number(0, 65535, "a port number")


def seconds(low: float, high: float) -> Callable[[str], float]:
    """An argparse ``type``: a finite number of seconds from ``low`` to ``high``."""

    def parse(text: str) -> float:
        import argparse  # loaded by then: parse runs while parsing

        try:
            value = float(text.strip())
        except ValueError:
            value = math.nan
        if not (math.isfinite(value) and low <= value <= high):
            raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds from {low:g} to {high:g}")
        return value

    return parse


# --- output -----------------------------------------------------------------------------------------


class ReaderGone(Exception):
    """Nobody reads the output any more (``lobby matches | head -1``): the command stops there,
    quietly, with exit status 0."""


def emit(text: str) -> int:
    """Print a command's output (network text made safe) and return exit status 0. When the
    reader has gone away, raise :class:`ReaderGone`, which ends the command quietly."""
    from lobby.tui.safe import clean

    try:
        print(clean(text, multiline=True), flush=True)
    except BrokenPipeError:
        _drop_stdout()
        raise ReaderGone from None
    return 0


def _drop_stdout() -> None:
    """Send what is left of stdout to the null device, so nothing (Python's exit-time flush
    included) complains about the reader that went away."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


def _stdout_reader_gone() -> bool:
    """Whether stdout is a pipe nobody reads any more."""
    import select

    try:
        poller = select.poll()
        poller.register(sys.stdout.fileno(), select.POLLOUT)
        return any(events & select.POLLERR for _, events in poller.poll(0))
    except (AttributeError, OSError, ValueError):  # no poll() here, or no real stdout
        return False


#: Option names that would carry a secret; lobby has none of them, and says why.
_SECRET_OPTIONS = ("--key", "--api-key", "--apikey", "--token", "--secret", "--password")

#: Where one piece of a word ends: whitespace, quotes and the separators of option values and
#: lists (``--x=a``, ``--active u,v``, ``key: value``).
_PIECES = re.compile(r"[\s\"'`,;:=()\[\]{}<>|]+")
#: A TeamBattles key anywhere in a word, even glued to other text (``xtb_live_...``).
_TB_KEY = re.compile(r"tb_(?:live|test)_", re.IGNORECASE)
#: An HTTP credential: ``Bearer <token>``, or an Authorization header.
_AUTH = re.compile(r"\bbearer\s+\S|\bauthorization\s*[:=]", re.IGNORECASE)
#: The names AWS credentials go by (``aws_secret_access_key=...``, ``AWS_SESSION_TOKEN=...``).
_AWS_NAMES = re.compile(r"aws_?secret|secret_?access_?key|session_?token", re.IGNORECASE)
#: A run of base64 text as long as an AWS secret access key (40) or longer (session tokens).
_LONG_RUN = re.compile(r"[A-Za-z0-9+/=]{40,}")


def _opaque(run: str) -> bool:
    """A long run of base64 that mixes cases and digits, and is not a path: a secret's shape."""
    return (
        not run.startswith("/")
        and any(c.isupper() for c in run)
        and any(c.islower() for c in run)
        and any(c.isdigit() for c in run)
    )


def _looks_like_a_key(word: str) -> bool:
    """A word of the command line that carries, or announces, a secret: a TeamBattles key
    (``tb_...``) anywhere in it, a Bearer token or Authorization header, an AWS secret access
    key or session token (by name or by shape), or a secret-bearing option."""
    name, _, _value = word.partition("=")
    if name.lower() in _SECRET_OPTIONS or name.lower().startswith(_SECRET_OPTIONS[1:]):
        return True
    if _TB_KEY.search(word) or _AUTH.search(word) or _AWS_NAMES.search(word):
        return True
    if any(piece.startswith("tb_") for piece in _PIECES.split(word)):
        return True
    return any(_opaque(run.group()) for run in _LONG_RUN.finditer(word))


#: The sub-commands that open a console, which reports what the settings name but lobby does
#: not know in its own screen (`lobby` alone is one too).
_CONSOLES = frozenset({None, "demo", "moderate", "web"})


def _report_unknown_settings() -> None:
    """One line on stderr naming the keys of the config file lobby does not know and ignores
    (those outside the profiles: a profile refuses a key it does not know, and the settings
    error names it)."""
    from lobby.config import config_file
    from lobby.config_schema import unknown_keys

    unknown = [key for key in unknown_keys() if not key.startswith("profiles.")]
    if unknown:
        plural = "s" if len(unknown) > 1 else ""
        print(f"lobby: {config_file()}: unknown setting{plural} ignored: {', '.join(unknown)}.", file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    collecting = gc.isenabled()
    try:
        return _main(argv)
    finally:
        if collecting:
            gc.enable()


def _main(argv: Sequence[str] | None) -> int:
    words = list(sys.argv[1:] if argv is None else argv)
    args: argparse.Namespace | SimpleNamespace
    if not words:
        args = SimpleNamespace(command=None, func=None)  # no need to load every sub-command
    else:
        if any(_looks_like_a_key(word) for word in words):
            # Refused before argparse, which would echo the word back in its error.
            print(
                "lobby: a secret (an API key, a token, an AWS secret) never goes on the command line "
                "(other users can read it there); set TEAMBATTLES_API_KEY, store it in the OS "
                "keyring, or use the profile's key_file; AWS credentials come from the AWS profile.",
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
    if args.command not in _CONSOLES:
        _report_unknown_settings()
    try:
        return int(args.func(args) or 0)
    except ReaderGone:
        return 0
    except BrokenPipeError:
        if not _stdout_reader_gone():
            raise
        _drop_stdout()  # a command that printed without emit(): `| head` is still not an error
        return 0
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
