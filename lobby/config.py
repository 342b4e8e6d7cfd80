"""User settings and backend profiles.

Sources, strongest first: arguments passed in code, ``LOBBY_*`` environment variables (nested
with ``__``, e.g. ``LOBBY_PROFILE=aws``), then ``config.toml`` in the user config directory.
Secrets are never settings: AWS credentials come from the AWS credential chain, the
TeamBattles key from ``TEAMBATTLES_API_KEY``, the OS keyring or an owner-only key file.

The schema (pydantic-settings: :class:`Settings`, :class:`Profile` and the rest of
:data:`SCHEMA_NAMES`) lives in :mod:`lobby.config_schema` and is loaded on first use of one of
those names here, so this module itself imports no pydantic.
"""

from __future__ import annotations

import importlib
import re
import tomllib
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from lobby import paths

if TYPE_CHECKING:
    from importlib.abc import Traversable

    from lobby.config_schema import BUILTIN_PROFILES as BUILTIN_PROFILES
    from lobby.config_schema import GameLiftProfile as GameLiftProfile
    from lobby.config_schema import Profile as Profile
    from lobby.config_schema import Settings as Settings
    from lobby.config_schema import TeamBattlesProfile as TeamBattlesProfile
    from lobby.config_schema import unknown_keys as unknown_keys

TEAMBATTLES_URL = "https://teambattles.gg/api/v1"

#: The longest lead a reminder may have, in seconds.
REMINDER_MAX = 3600.0

#: How a desktop notification reaches the terminal: "auto" (what the terminal is known to
#: support, else none), OSC 9 (iTerm2, WezTerm, kitty), OSC 777 (foot, Ghostty, urxvt), "off".
DesktopNotifications = Literal["auto", "osc9", "osc777", "off"]

#: The names :mod:`lobby.config_schema` defines, loaded from there on first use.
SCHEMA_NAMES = frozenset(
    {"BUILTIN_PROFILES", "GameLiftProfile", "Profile", "Settings", "TeamBattlesProfile", "unknown_keys"}
)


def __getattr__(name: str) -> object:
    if name in SCHEMA_NAMES:
        return getattr(importlib.import_module("lobby.config_schema"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def config_file() -> Path:
    return paths.config_dir() / "config.toml"


class ConfigError(ValueError):
    """The config file cannot be read: one line naming the file, the line and the column."""


def toml_error(path: Path | Traversable, exc: tomllib.TOMLDecodeError) -> str:
    """"config.toml:3:7: Expected '=' after a key" (the decoder's words, without its "(at ...)")."""
    message = str(exc)
    found = re.search(r"\(at line (\d+), column (\d+)\)", message)
    if found is None:
        return f"{path}: {message}"
    line, column = found.groups()
    return f"{path}:{line}:{column}: {message[: found.start()].strip()}"
