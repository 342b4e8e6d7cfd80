"""User settings and backend profiles.

Sources, strongest first: arguments passed in code, ``LOBBY_*`` environment variables (nested
with ``__``, e.g. ``LOBBY_PROFILE=aws``), then ``config.toml`` in the user config directory.
Secrets are never settings: AWS credentials come from the AWS credential chain, the
TeamBattles key from ``TEAMBATTLES_API_KEY``, the OS keyring or an owner-only key file.

The sources are read here, once (:func:`settings_sources`), with tomllib and ``os.environ``
alone; the schema (pydantic: ``Settings``, ``Profile`` and the rest) lives in
:mod:`lobby.config_schema`, imported by what validates settings; this module imports no
pydantic. The console paints its first frame before the schema is loaded
(tests/bench/test_bench_startup.py): :func:`first_look` reads the few settings that frame needs
from the same sources, and the whole schema is validated right after (:mod:`lobby.cli.app`).
"""

from __future__ import annotations

import json
import os
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal, get_args

from lobby import paths

if TYPE_CHECKING:
    from importlib.abc import Traversable


TEAMBATTLES_URL = "https://teambattles.gg/api/v1"

#: The longest lead a reminder may have, in seconds.
REMINDER_MAX = 3600.0

#: How a desktop notification reaches the terminal: "auto" (what the terminal is known to
#: support, else none), OSC 9 (iTerm2, WezTerm, kitty), OSC 777 (foot, Ghostty, urxvt), "off".
DesktopNotifications = Literal["auto", "osc9", "osc777", "off"]

#: How the environment names a setting: ``LOBBY_`` and the setting's name, any case; a nested
#: one with ``__`` between the names (``LOBBY_PROFILES__AWS__KIND=live``).
ENV_PREFIX = "LOBBY_"
ENV_NESTED_DELIMITER = "__"

#: The settings the console's first frame needs (:class:`FirstLook`), named as in the schema.
PROFILE = "profile"
THEME = "theme"
KEYMAP = "keymap"
PROFILES = "profiles"
KIND = "kind"
#: The settings' defaults (the schema's too).
DEFAULT_PROFILE = "emulator"
DEFAULT_THEME = "lobby"

#: What a profile's endpoints come from: "emulator", the running `lobby demo` / `lobby emulator`.
ProfileKind = Literal["emulator", "live"]
PROFILE_KINDS: tuple[ProfileKind, ...] = get_args(ProfileKind)
DEFAULT_KIND: ProfileKind = "live"
#: The profiles every configuration has, by name, and their kinds.
BUILTIN_KINDS: dict[str, ProfileKind] = {"emulator": "emulator"}

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


def read_config_file(path: Path | Traversable) -> dict[str, object]:
    """The config file's table ({} when there is none), or a :class:`ConfigError` saying where
    it is broken."""
    try:
        with path.open("rb") as raw:
            return tomllib.load(raw)
    except FileNotFoundError:
        return {}
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(toml_error(path, exc)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot be read ({exc.__class__.__name__}).") from None


@dataclass(frozen=True)
class FirstLook:
    """The settings the console's first frame needs, read without the schema (not validated:
    a value of the wrong type reads as the default, and the validated settings that follow
    have the last word)."""

    profile: str = DEFAULT_PROFILE
    theme: str = DEFAULT_THEME
    keymap: Mapping[str, str] = field(default_factory=dict)
    #: The kind of each profile the configuration defines (an unknown kind reads as None).
    kinds: Mapping[str, ProfileKind | None] = field(default_factory=dict)

    def kind(self, profile: str | None) -> ProfileKind | None:
        """The kind of ``profile``; None for a profile the configuration does not have."""
        if profile is None:
            return None
        if profile in self.kinds:
            return self.kinds[profile]
        return BUILTIN_KINDS.get(profile)


#: What a ``LOBBY_*`` variable's text becomes, given the variable's name and the setting's path
#: (names lower-cased): the value to merge, or :data:`IGNORED`.
Decode = Callable[[str, tuple[str, ...], str], object]
#: A variable that names no setting the reader takes (pydantic-settings' ``extra="ignore"``).
IGNORED = object()


def settings_sources(
    decode: Decode,
    path: Path | None = None,
    environ: Mapping[str, str] | None = None,
    given: Mapping[str, object] | None = None,
) -> dict[str, object]:
    """The settings as the sources give them, the strongest last merged in: the config file,
    then the ``LOBBY_*`` environment (:func:`from_environment`), then what code ``given``; a
    table's keys are merged one by one. A config file that cannot be read is a
    :class:`ConfigError`."""
    environment = from_environment(os.environ if environ is None else environ, decode)
    return _merged(_merged(read_config_file(path or config_file()), environment), dict(given or {}))


def from_environment(environ: Mapping[str, str], decode: Decode) -> dict[str, object]:
    """The settings the environment gives: ``LOBBY_`` and a setting's name, any case; a
    nested one with ``__`` between the names (``LOBBY_PROFILES__AWS__KIND=live``), merged
    over a whole table given as one variable. Each value is what ``decode`` makes of its text."""
    whole: dict[str, object] = {}
    nested: dict[str, object] = {}
    prefix = ENV_PREFIX.lower()
    for variable, text in environ.items():
        name = variable.lower()
        if not name.startswith(prefix):
            continue
        path = tuple(name[len(prefix) :].split(ENV_NESTED_DELIMITER.lower()))
        if not all(path):
            continue
        value = decode(variable, path, text)
        if value is IGNORED:
            continue
        if len(path) == 1:
            whole[path[0]] = value
            continue
        into = nested
        for part in path[:-1]:
            below = into.get(part)
            if not isinstance(below, dict):
                below = into[part] = {}
            into = below
        into[path[-1]] = value
    return _merged(whole, nested)


def first_look(path: Path | None = None, environ: Mapping[str, str] | None = None) -> FirstLook:
    """:class:`FirstLook` from the same sources as the schema (:func:`settings_sources`); a
    config file that cannot be read is a :class:`ConfigError`."""
    found = settings_sources(_looked_at, path, environ)
    profile, theme = found.get(PROFILE), found.get(THEME)
    keymap, profiles = _table(found.get(KEYMAP)), _table(found.get(PROFILES))
    kinds: dict[str, ProfileKind | None] = {}
    for name, table in profiles.items():
        kind = _table(table).get(KIND, DEFAULT_KIND)
        kinds[name] = next((known for known in PROFILE_KINDS if known == kind), None)
    return FirstLook(
        profile=profile if isinstance(profile, str) else DEFAULT_PROFILE,
        theme=theme if isinstance(theme, str) else DEFAULT_THEME,
        keymap={key: keys for key, keys in keymap.items() if isinstance(keys, str)},
        kinds=kinds,
    )


#: The settings :func:`first_look` reads, and which of them are tables.
_LOOKED_AT = (PROFILE, THEME, KEYMAP, PROFILES)
_TABLES = (KEYMAP, PROFILES)


def _looked_at(variable: str, path: tuple[str, ...], text: str) -> object:
    """The first look's decoding: a looked-at table as JSON in its own variable (None when it
    is not: the schema says so once it validates), anything below a table as it is."""
    if path[0] not in _LOOKED_AT or (len(path) > 1 and path[0] not in _TABLES):
        return IGNORED
    return _json(text) if len(path) == 1 and path[0] in _TABLES else text


def _json(value: str) -> object:
    try:
        return json.loads(value)
    except ValueError:
        return None  # not valid: the schema says so once it validates


def _table(value: object) -> dict[str, object]:
    return {str(key): item for key, item in value.items()} if isinstance(value, dict) else {}


def _merged(base: dict[str, object], over: dict[str, object]) -> dict[str, object]:
    """``over`` on ``base``, tables merged key by key (as the schema merges its sources)."""
    merged = dict(base)
    for key, value in over.items():
        below = merged.get(key)
        if isinstance(below, dict) and isinstance(value, dict):
            merged[key] = _merged(_table(below), _table(value))
        else:
            merged[key] = value
    return merged
