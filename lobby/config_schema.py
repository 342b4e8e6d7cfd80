"""The settings' schema (pydantic): the profiles and every setting, validated.

Imported only by what validates settings: :mod:`lobby.config` (the config file's place, its
errors, the sources and the settings' first look) imports no pydantic. The sources are read
there, once for both (:func:`lobby.config.settings_sources`); the schema decides which
variables' texts are JSON: those of a table or a list, as pydantic-settings did.
"""

from __future__ import annotations

import json
import math
import types
from pathlib import Path
from typing import Any, Union, get_args, get_origin

from pydantic import BaseModel, ConfigDict, Field, field_validator

from lobby.config import (
    BUILTIN_KINDS,
    DEFAULT_KIND,
    DEFAULT_PROFILE,
    DEFAULT_THEME,
    IGNORED,
    REMINDER_MAX,
    TEAMBATTLES_URL,
    ConfigError,
    DesktopNotifications,
    ProfileKind,
    config_file,
    read_config_file,
    settings_sources,
)
from lobby.core.offers import DEFAULT_REMINDERS


class GameLiftProfile(BaseModel):
    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)

    region: str | None = Field(default=None, description="None: the AWS chain's default region.")
    endpoint_url: str | None = Field(
        default=None, description="None: GameLift's regional endpoint (or the running emulator)."
    )
    aws_profile: str | None = Field(default=None, description="A named profile of ~/.aws/config.")
    players: list[str] = Field(default_factory=list, description="The player ids you answer for.")
    feed_url: str | None = Field(
        default=None, description="Base URL of an emulator event stream to follow for changes."
    )
    poll_interval: float = Field(
        default=10.0, ge=10.0, description="Seconds between DescribeMatchmaking polls (AWS: >= 10)."
    )
    notifications_queue: str | None = Field(
        default=None,
        description="URL of an SQS queue receiving the FlexMatch notifications (SNS or EventBridge): "
        "what the moderator's view watches on this profile.",
    )


class TeamBattlesProfile(BaseModel):
    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)

    base_url: str = TEAMBATTLES_URL
    key_file: Path | None = Field(
        default=None, description="A file holding the API key, readable only by its owner."
    )
    user: str | None = Field(
        default=None,
        description="Your TeamBattles username or user id (the API key's owner): lobby then "
        "offers only matches for the teams you lead and checks leadership before sending.",
    )


class Profile(BaseModel):
    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)

    #: "emulator": endpoints come from the running `lobby demo` / `lobby emulator`.
    kind: ProfileKind = DEFAULT_KIND
    gamelift: GameLiftProfile = Field(default_factory=GameLiftProfile)
    teambattles: TeamBattlesProfile = Field(default_factory=TeamBattlesProfile)


BUILTIN_PROFILES: dict[str, Profile] = {name: Profile(kind=kind) for name, kind in BUILTIN_KINDS.items()}


class Settings(BaseModel):
    """The settings: :meth:`load` reads them from their sources; ``Settings(**values)`` is
    ``values`` alone, the rest defaults."""

    model_config = ConfigDict(
        extra="ignore",
        validate_default=True,
        # A value put where it does not belong (an API key in config.toml) is never echoed.
        hide_input_in_errors=True,
    )

    profile: str = DEFAULT_PROFILE
    profiles: dict[str, Profile] = Field(default_factory=dict)
    bell: bool = True
    visual_only: bool = Field(
        default=False,
        description="Alerts are toasts only: no bell and no terminal escape sequences.",
    )
    reminders: list[float] = Field(
        default_factory=lambda: list(DEFAULT_REMINDERS),
        description="Seconds before an offer's deadline (the service's time) at which the "
        "console reminds you of it, e.g. [30, 10]; [] for none.",
    )
    desktop_notifications: DesktopNotifications = Field(
        default="auto",
        description="Desktop notifications while the terminal window is not focused: auto, "
        "osc9, osc777 or off.",
    )
    theme: str = DEFAULT_THEME
    keymap: dict[str, str] = Field(
        default_factory=dict,
        description="Binding id -> keys, e.g. {'lobby.home.filter': 'f'}; the help screen lists ids.",
    )

    @classmethod
    def load(cls, **values: Any) -> Settings:
        """The settings of the sources (:func:`lobby.config.settings_sources`: the config
        file, then the ``LOBBY_*`` environment), ``values`` strongest; a config file that
        cannot be read, or a variable's JSON that is not, is a :class:`ConfigError`."""
        return cls.model_validate(settings_sources(_environment_value, given=values))

    @field_validator("reminders")
    @classmethod
    def _reminders(cls, value: list[float]) -> list[float]:
        """Each a number of seconds above 0 and at most REMINDER_MAX; latest last, each once."""
        for lead in value:
            if not math.isfinite(lead) or not 0 < lead <= REMINDER_MAX:
                raise ValueError(
                    f"each reminder is a number of seconds above 0 and at most {REMINDER_MAX:g}, "
                    "e.g. [30, 10]"
                )
        return sorted(set(value), reverse=True)

    def profile_names(self) -> list[str]:
        """The name of every profile: the built-in ones and the configured ones, sorted."""
        return sorted({*BUILTIN_PROFILES, *self.profiles})

    def active(self) -> tuple[str, Profile]:
        """The chosen profile; an unknown name is a plain error."""
        merged = {**BUILTIN_PROFILES, **self.profiles}
        if self.profile not in merged:
            known = ", ".join(sorted(merged))
            raise ValueError(f"no profile named {self.profile!r} (known: {known})")
        return self.profile, merged[self.profile]


def _environment_value(variable: str, path: tuple[str, ...], text: str) -> object:
    """A ``LOBBY_*`` variable's value for the setting at ``path``: JSON for a table or a list
    (a :class:`ConfigError` naming the variable when it is not JSON), else the text, which the
    schema converts. A name the schema does not know in a table is given as it is, for the
    schema to judge (a profile's unknown key is an error); one nested under a plain setting
    is :data:`~lobby.config.IGNORED`."""
    annotation = _annotation_at(path)
    if annotation is None:
        parent = _annotation_at(path[:-1])
        return text if parent is not None and _is_table_or_list(parent) else IGNORED
    if not _is_table_or_list(annotation):
        return text
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{variable}: not valid JSON ({exc.msg}); a table or a list is given as JSON") from None


def _annotation_at(path: tuple[str, ...]) -> object | None:
    """The type of the setting at ``path`` (a dictionary's keys are any names), or None."""
    annotation: object = Settings
    for part in path:
        annotation = _optional_inner(annotation)
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            field = annotation.model_fields.get(part)
            if field is None:
                return None
            annotation = field.annotation
        elif get_origin(annotation) is dict:
            annotation = get_args(annotation)[1]
        else:
            return None
    return annotation


def _optional_inner(annotation: object) -> object:
    """``X`` of ``X | None``; else ``annotation``."""
    if get_origin(annotation) in (Union, types.UnionType):
        inner = [arg for arg in get_args(annotation) if arg is not type(None)]
        if len(inner) == 1:
            return inner[0]
    return annotation


def _is_table_or_list(annotation: object) -> bool:
    inner = _optional_inner(annotation)
    if isinstance(inner, type) and issubclass(inner, BaseModel):
        return True
    return get_origin(inner) in (dict, list, set, tuple)


def unknown_keys(path: Path | None = None) -> list[str]:
    """The keys of the config file lobby does not know (dotted, in the file's order), to report
    them; none when the file cannot be read (that is said elsewhere, in one line)."""
    try:
        raw = read_config_file(path or config_file())
    except ConfigError:
        return []
    return _unknown_below((), raw)


def _unknown_below(path: tuple[str, ...], table: dict[str, object]) -> list[str]:
    """The keys of ``table`` (at ``path``) the schema does not know, and those below them."""
    found = []
    for key, value in table.items():
        here = (*path, key)
        annotation = _annotation_at(here)
        if annotation is None:
            found.append(".".join(here))
        elif isinstance(value, dict) and _is_table_or_list(annotation):
            found += _unknown_below(here, value)
    return found
