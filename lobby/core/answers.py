"""What a captain answers a match with, and the facts an answer is judged against.

Plain frozen data, no rules and no I/O: the console fills in drafts and shows violations, the
TeamBattles client and its emulator build facts from what they know and judge drafts with the
rule functions of :mod:`lobby.teambattles.rules`. Living here, below every service, these types
let the console speak of answers without importing any service. How a person types a disputed
rule's value is read here too, once, for the console and the command line.
"""

from __future__ import annotations

import re

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class MatchStatus(StrEnum):
    PENDING = "PENDING"
    ACCEPTED = "ACCEPTED"
    READY = "READY"
    IN_PROGRESS = "IN_PROGRESS"
    COMPLETED = "COMPLETED"
    CANCELLED = "CANCELLED"
    DISPUTED = "DISPUTED"
    FORFEITED = "FORFEITED"


class PublishStatus(StrEnum):
    DRAFT = "DRAFT"
    PUBLISHED = "PUBLISHED"
    ARCHIVED = "ARCHIVED"


class MapPreferenceMode(StrEnum):
    """PREFERRED lists maps the team wants; VETO lists maps it does not want."""

    PREFERRED = "PREFERRED"
    VETO = "VETO"


class TeamRole(StrEnum):
    CAPTAIN = "CAPTAIN"
    CO_CAPTAIN = "CO_CAPTAIN"
    MEMBER = "MEMBER"


LEADER_ROLES = frozenset({TeamRole.CAPTAIN, TeamRole.CO_CAPTAIN})

#: A value in ``disputedRules``: text, a number, a flag or a list of texts.
RuleValue = str | int | float | bool | Sequence[str]


@dataclass(frozen=True, slots=True)
class Violation:
    """One broken rule: the service's error code, the request field at fault, a plain sentence."""

    code: str
    details: str
    field: str | None = None


# --- drafts ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BenchEntry:
    user_id: str
    priority: float


@dataclass(frozen=True, slots=True)
class RosterDraft:
    """A proposed roster: ``active`` user ids and an optional prioritised bench."""

    active: tuple[str, ...]
    bench: tuple[BenchEntry, ...] = ()


@dataclass(frozen=True, slots=True)
class AcceptanceDraft:
    """What a captain proposes when asking to play an open match."""

    team_id: str
    active_roster: tuple[str, ...]
    bench: tuple[BenchEntry, ...] = ()
    map_mode: MapPreferenceMode | None = None
    selected_maps: tuple[str, ...] = ()
    message: str | None = None
    disputed_rules: Mapping[str, Any] = field(default_factory=dict, hash=False)

    @property
    def roster(self) -> RosterDraft:
        return RosterDraft(self.active_roster, self.bench)

    @classmethod
    def build(
        cls,
        team_id: str,
        active_roster: Iterable[str],
        bench: Iterable[tuple[str, float] | BenchEntry] = (),
        map_mode: MapPreferenceMode | str | None = None,
        selected_maps: Iterable[str] = (),
        message: str | None = None,
        disputed_rules: Mapping[str, Any] | None = None,
    ) -> AcceptanceDraft:
        """Build a draft from plain values, e.g. ``bench=[("u7", 1), ("u8", 2)]``."""
        entries = tuple(b if isinstance(b, BenchEntry) else BenchEntry(b[0], b[1]) for b in bench)
        return cls(
            team_id=team_id,
            active_roster=tuple(active_roster),
            bench=entries,
            map_mode=MapPreferenceMode(map_mode) if map_mode is not None else None,
            selected_maps=tuple(selected_maps),
            message=message,
            disputed_rules=dict(disputed_rules or {}),
        )


# --- facts ----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MatchFacts:
    id: str
    status: MatchStatus
    publish_status: PublishStatus
    game_id: str
    game_mode: str
    team_size: int
    creator_team_id: str | None
    accepted_team_id: str | None = None
    challenged_team_id: str | None = None
    scheduled_at: datetime | None = None
    #: Users already on the match (the creator's roster): nobody plays for both sides.
    player_ids: frozenset[str] = frozenset()

    @property
    def is_challenge(self) -> bool:
        return self.challenged_team_id is not None


@dataclass(frozen=True, slots=True)
class TeamFacts:
    """A team and the roles of its active members (user id -> role).

    Facts built by someone who cannot see everything say so: ``roster_known`` is False when the
    members are hidden from them, and ``in_organization`` is True for a team of an organization
    whose owner (who leads the team without being on it) they cannot name.
    """

    id: str
    game_id: str | None
    members: Mapping[str, TeamRole]
    organization_owner_id: str | None = None
    competitive_banned: bool = False
    name: str = ""
    roster_known: bool = True
    in_organization: bool = False

    def label(self) -> str:
        return self.name or self.id


@dataclass(frozen=True, slots=True)
class GameFacts:
    """A game's maps (id -> released?) and the map pool of each mode (mode id -> map ids).

    A mode missing from ``mode_pools``, or with an empty pool, takes no map preferences.
    """

    id: str
    maps: Mapping[str, bool]
    mode_pools: Mapping[str, tuple[str, ...]]
    mode_ids: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class AcceptanceFacts:
    """Everything :func:`~lobby.teambattles.rules.check_acceptance` needs besides the draft.

    ``owner_id`` is the user the API key belongs to: the only person who ever acts.
    ``pending_team_ids`` are the teams that already have a pending request on this match.
    ``now``, when given, lets the rules see that a match has already started.
    """

    owner_id: str
    match: MatchFacts
    team: TeamFacts
    game: GameFacts
    pending_team_ids: frozenset[str] = frozenset()
    now: datetime | None = None


# --- disputed rules' values as a person types them (the console and the command line) ---------

_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")


def parse_value(raw: str) -> Any:
    """``true``/``false`` -> a flag, ``12`` or ``1.5`` -> a number, ``[a, b]`` -> a list of
    texts, anything else -> text."""
    value = raw.strip()
    if value.lower() in ("true", "false"):
        return value.lower() == "true"
    if _NUMBER.match(value):
        return float(value) if "." in value else int(value)
    if value.startswith("[") and value.endswith("]"):
        inner = value[1:-1].strip()
        return [item.strip() for item in inner.split(",")] if inner else []
    return value


def show_value(value: Any) -> str:
    """A disputed rule's value as :func:`parse_value` reads it back."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(str(v) for v in value) + "]"
    return str(value)
