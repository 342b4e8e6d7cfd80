"""The settings' schema (pydantic-settings): the profiles and every setting, validated.

Imported only by what validates settings: :mod:`lobby.config` (the config file's place, its
errors and the settings' first look) imports no pydantic.
"""

from __future__ import annotations

import math
import tomllib
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from lobby.config import (
    BUILTIN_KINDS,
    DEFAULT_KIND,
    DEFAULT_PROFILE,
    DEFAULT_THEME,
    ENV_NESTED_DELIMITER,
    ENV_PREFIX,
    REMINDER_MAX,
    TEAMBATTLES_URL,
    DesktopNotifications,
    ProfileKind,
    config_file,
    read_config_file,
)
from lobby.core.offers import DEFAULT_REMINDERS

if TYPE_CHECKING:
    from importlib.abc import Traversable


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


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_nested_delimiter=ENV_NESTED_DELIMITER,
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

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml = _CheckedToml(settings_cls, toml_file=config_file())
        return (init_settings, env_settings, toml)

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


class _CheckedToml(TomlConfigSettingsSource):
    """The config file, or a :class:`ConfigError` saying where it is broken."""

    # pydantic-settings reads each file here (its one hook for a file's parse errors).
    def _read_file(self, file_path: Path | Traversable) -> dict[str, Any]:
        return read_config_file(file_path)


def unknown_keys(path: Path | None = None) -> list[str]:
    """The keys of the config file lobby does not know (dotted), to report them."""
    path = path or config_file()
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return []
    known = set(Settings.model_fields)
    found = [key for key in raw if key not in known]
    profiles = raw.get("profiles")
    if isinstance(profiles, dict):
        found += _unknown_in_profiles(profiles)
    return found


def _unknown_in_profiles(profiles: dict[str, Any]) -> list[str]:
    sections: dict[str, type[BaseModel]] = {"gamelift": GameLiftProfile, "teambattles": TeamBattlesProfile}
    found = []
    for name, profile in profiles.items():
        if not isinstance(profile, dict):
            continue
        for key, value in profile.items():
            if key not in Profile.model_fields:
                found.append(f"profiles.{name}.{key}")
            elif key in sections and isinstance(value, dict):
                fields = sections[key].model_fields
                found += [f"profiles.{name}.{key}.{k}" for k in value if k not in fields]
    return found
