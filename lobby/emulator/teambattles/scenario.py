"""What the TeamBattles side of the emulator is seeded with: games, people, teams, keys, matches,
rate limits and demo bots. Times are relative to the moment a fresh database is seeded."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from lobby.core.answers import TeamRole
from lobby.teambattles.vocab import (
    BEST_OF_VALUES,
    TEAM_SIZE_MAX,
    MatchType,
    Platform,
    Region,
    Visibility,
)

KEY_PATTERN = re.compile(r"^tb_[A-Za-z0-9_]{16,128}$")
ID_PATTERN = r"^[A-Za-z0-9_.-]{1,64}$"

KeyKind = Literal["personal", "developer-app", "league-operator"]
Plan = Literal["free", "pro", "studio"]
ScopeLevel = Literal["read", "read-write"]

#: Every scope the emulated routes ask for.
SCOPES = (
    "matches.public_matches",
    "matches.user_matches",
    "matches.team_matches",
    "matches.org_matches",
    "teams.roster",
    "teams.profile",
    "users.profile",
)


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Bucket(_Model):
    """A token bucket: ``burst`` requests at once, refilled at ``per_second``."""

    burst: int = Field(ge=1, le=1_000_000)
    per_second: float = Field(gt=0, le=1_000_000)


class RateLimits(_Model):
    """Per-key buckets by plan and one per client address. The defaults are the service's own."""

    free: Bucket = Bucket(burst=60, per_second=1)
    pro: Bucket = Bucket(burst=300, per_second=10)
    studio: Bucket = Bucket(burst=1000, per_second=30)
    ip: Bucket = Bucket(burst=300, per_second=50)

    def raised_over(self, published: RateLimits) -> list[str]:
        """The buckets that allow more than ``published`` does, by name."""
        return [
            name
            for name in ("free", "pro", "studio", "ip")
            if getattr(self, name).burst > getattr(published, name).burst
            or getattr(self, name).per_second > getattr(published, name).per_second
        ]


#: The service's own buckets (developers/rate-limits.mdx).
PUBLISHED_RATE_LIMITS = RateLimits()


class RaisedRateLimits(RateLimits):
    """Buckets above the service's own, for load tests. Whatever runs with them says so."""

    reason: str = Field(min_length=1, max_length=200)


class MapSpec(_Model):
    id: str = Field(pattern=ID_PATTERN)
    name: str = Field(min_length=1, max_length=80)
    released: bool = True


class ModeSpec(_Model):
    id: str = Field(pattern=ID_PATTERN)
    name: str = Field(min_length=1, max_length=80)
    short_name: str | None = None
    #: The mode's map pool; empty means the mode takes no map choices.
    maps: list[str] = Field(default_factory=list)


class GameSpec(_Model):
    id: str = Field(pattern=ID_PATTERN, description="Public slug, e.g. skyline-strike.")
    convex_id: str = Field(pattern=ID_PATTERN, description="The id match routes use.")
    name: str = Field(min_length=1, max_length=80)
    short_name: str | None = None
    category: str = "shooter"
    default_team_size: int = Field(ge=1, le=TEAM_SIZE_MAX)
    coming_soon: bool = False
    modes: list[ModeSpec] = Field(default_factory=list)
    maps: list[MapSpec] = Field(default_factory=list)

    @model_validator(mode="after")
    def _pools_name_known_maps(self) -> GameSpec:
        known = {m.id for m in self.maps}
        for mode in self.modes:
            for map_id in mode.maps:
                if map_id not in known:
                    raise ValueError(f"game {self.id}: mode {mode.id} lists unknown map {map_id}")
        return self


class UserSpec(_Model):
    id: str = Field(pattern=ID_PATTERN)
    username: str = Field(pattern=r"^[A-Za-z0-9_.-]{1,32}$")
    name: str = Field(min_length=1, max_length=80)
    visibility: Visibility = Visibility.PUBLIC
    verified: bool = False


class OrganizationSpec(_Model):
    id: str = Field(pattern=ID_PATTERN)
    slug: str = Field(pattern=ID_PATTERN)
    name: str = Field(min_length=1, max_length=80)
    tag: str | None = None
    owner: str = Field(description="User id of the organization's owner.")
    visibility: Visibility = Visibility.PUBLIC


class MemberSpec(_Model):
    user: str
    role: TeamRole = TeamRole.MEMBER


class TeamSpec(_Model):
    id: str = Field(pattern=ID_PATTERN)
    slug: str = Field(pattern=ID_PATTERN)
    name: str = Field(min_length=1, max_length=80)
    tag: str = Field(min_length=1, max_length=8)
    game: str = Field(description="Game slug or convex id.")
    organization: str | None = None
    visibility: Visibility = Visibility.PUBLIC
    description: str | None = None
    competitive_banned: bool = False
    members: list[MemberSpec] = Field(min_length=1)

    @model_validator(mode="after")
    def _one_captain(self) -> TeamSpec:
        users = [m.user for m in self.members]
        if len(set(users)) != len(users):
            raise ValueError(f"team {self.id} lists a member twice")
        if sum(m.role == TeamRole.CAPTAIN for m in self.members) != 1:
            raise ValueError(f"team {self.id} needs exactly one captain")
        return self


class KeySpec(_Model):
    """A demo API key. Values are test keys: they never start with ``tb_live_``."""

    key: str
    label: str = ""
    owner: str
    kind: KeyKind = "personal"
    plan: Plan = "pro"
    scopes: dict[str, ScopeLevel] = Field(default_factory=dict)
    #: Days from seeding until the key expires; negative means already expired; None never.
    expires_in_days: float | None = None
    revoked: bool = False

    @field_validator("key")
    @classmethod
    def _test_key(cls, value: str) -> str:
        if not KEY_PATTERN.match(value):
            raise ValueError("a key is tb_ followed by 16-128 letters, digits or underscores")
        if value.startswith("tb_live_"):
            raise ValueError("demo keys must not look like live keys (tb_live_...)")
        return value

    @field_validator("scopes")
    @classmethod
    def _known_scopes(cls, value: dict[str, str]) -> dict[str, str]:
        for name in value:
            if name not in SCOPES:
                raise ValueError(f"unknown scope {name!r}; known: {', '.join(SCOPES)}")
        return value


class MatchSpec(_Model):
    id: str = Field(pattern=ID_PATTERN)
    creator_team: str
    game_mode: str
    team_size: int | None = Field(default=None, ge=1, le=TEAM_SIZE_MAX)
    best_of: int = 1
    match_type: MatchType = MatchType.XP_ONLY
    platform: Platform = Platform.CROSSPLAY
    region: Region = Region.NONE
    starts_in_minutes: float | None = Field(default=60, description="From seeding; None: unset.")
    selected_maps: list[str] = Field(default_factory=list)
    published: bool = True
    challenged_team: str | None = None
    #: An already-arranged match: the opponent and its status (ACCEPTED, READY, IN_PROGRESS).
    accepted_team: str | None = None
    status: Literal["PENDING", "ACCEPTED", "READY", "IN_PROGRESS"] = "PENDING"
    notes: str | None = None

    @field_validator("best_of")
    @classmethod
    def _best_of(cls, value: int) -> int:
        if value not in BEST_OF_VALUES:
            raise ValueError(f"best_of must be one of {BEST_OF_VALUES}")
        return value


class BotSpec(_Model):
    """A demo user who answers requests on their teams' matches and posts new ones."""

    user: str
    approve_ratio: float = Field(default=0.6, ge=0, le=1)
    reply_after_seconds: tuple[float, float] = (4.0, 12.0)
    post_every_seconds: float | None = Field(default=40.0, gt=0)
    max_open_matches: int = Field(default=2, ge=0, le=20)
    starts_in_minutes: tuple[float, float] = (8.0, 45.0)


class TeamBattlesScenario(BaseModel):
    model_config = ConfigDict(extra="forbid")

    seed: int = Field(default=1, description="Seeds every choice the TeamBattles bots make.")
    you: str | None = Field(default=None, description="The user id of the person at the demo.")
    #: The service's buckets, or tighter ones; a scenario cannot raise them here.
    rate_limits: RateLimits = Field(default_factory=RateLimits)
    #: The one way to run above the service's buckets; the emulator announces it.
    raised_rate_limits: RaisedRateLimits | None = None
    games: list[GameSpec] = Field(default_factory=list)
    users: list[UserSpec] = Field(default_factory=list)
    organizations: list[OrganizationSpec] = Field(default_factory=list)
    teams: list[TeamSpec] = Field(default_factory=list)
    keys: list[KeySpec] = Field(default_factory=list)
    matches: list[MatchSpec] = Field(default_factory=list)
    bots: list[BotSpec] = Field(default_factory=list)

    @property
    def effective_rate_limits(self) -> RateLimits:
        """The buckets the emulator meters with."""
        return self.raised_rate_limits or self.rate_limits

    def raised_limits_notice(self) -> str | None:
        """One line for wherever the emulator's user looks, when the buckets are raised."""
        raised = self.raised_rate_limits
        if raised is None:
            return None
        names = ", ".join(raised.raised_over(PUBLISHED_RATE_LIMITS)) or "none"
        return f"TeamBattles rate limits raised above the service's own ({names}): {raised.reason}"

    def raised_limits_health(self) -> dict[str, object] | None:
        """The health answer's ``raisedRateLimits``: null at the service's own buckets, else
        ``{"buckets": [names], "reason": text, "notice": the line above}``."""
        raised = self.raised_rate_limits
        notice = self.raised_limits_notice()
        if raised is None or notice is None:
            return None
        return {
            "buckets": raised.raised_over(PUBLISHED_RATE_LIMITS),
            "reason": raised.reason,
            "notice": notice,
        }

    @model_validator(mode="after")
    def _references(self) -> TeamBattlesScenario:
        def unique(kind: str, values: list[str]) -> set[str]:
            seen: set[str] = set()
            for v in values:
                if v in seen:
                    raise ValueError(f"two {kind} share the id {v}")
                seen.add(v)
            return seen

        raised = self.rate_limits.raised_over(PUBLISHED_RATE_LIMITS)
        if raised:
            raise ValueError(
                f"rate_limits raises {', '.join(raised)} above the service's own buckets; "
                "use raised_rate_limits (with a reason) to run above them"
            )
        users = unique("users", [u.id for u in self.users])
        unique("usernames", [u.username.lower() for u in self.users])
        games = {g.id: g for g in self.games}
        unique("games", [g.id for g in self.games] + [g.convex_id for g in self.games])
        orgs = unique("organizations", [o.id for o in self.organizations])
        teams = {t.id: t for t in self.teams}
        unique("teams", [t.id for t in self.teams] + [t.slug for t in self.teams])
        unique("keys", [k.key for k in self.keys])
        unique("matches", [m.id for m in self.matches])
        if self.you is not None and self.you not in users:
            raise ValueError(f"you: unknown user {self.you}")
        for o in self.organizations:
            if o.owner not in users:
                raise ValueError(f"organization {o.id}: unknown owner {o.owner}")
        by_game = {g.convex_id: g for g in self.games} | games
        for t in self.teams:
            if t.game not in by_game:
                raise ValueError(f"team {t.id}: unknown game {t.game}")
            if t.organization is not None and t.organization not in orgs:
                raise ValueError(f"team {t.id}: unknown organization {t.organization}")
            for m in t.members:
                if m.user not in users:
                    raise ValueError(f"team {t.id}: unknown member {m.user}")
        for k in self.keys:
            if k.owner not in users:
                raise ValueError(f"key {k.label or k.key[:12]}: unknown owner {k.owner}")
        for match in self.matches:
            team = teams.get(match.creator_team)
            if team is None:
                raise ValueError(f"match {match.id}: unknown creator team {match.creator_team}")
            game = by_game[team.game]
            mode = next((x for x in game.modes if x.id == match.game_mode), None)
            if mode is None:
                raise ValueError(f"match {match.id}: game {game.id} has no mode {match.game_mode}")
            size = match.team_size or game.default_team_size
            if len(team.members) < size:
                raise ValueError(f"match {match.id}: {team.id} has fewer than {size} members")
            for other in (match.challenged_team, match.accepted_team):
                if other is not None:
                    if other not in teams or other == team.id:
                        raise ValueError(f"match {match.id}: bad opponent {other}")
                    if len(teams[other].members) < size:
                        raise ValueError(f"match {match.id}: {other} has fewer than {size} members")
            if (match.status == "PENDING") != (match.accepted_team is None):
                raise ValueError(f"match {match.id}: an accepted_team goes with a non-PENDING status")
            for map_id in match.selected_maps:
                if map_id not in mode.maps:
                    raise ValueError(f"match {match.id}: map {map_id} is not in the {mode.id} pool")
        for b in self.bots:
            if b.user not in users:
                raise ValueError(f"bot: unknown user {b.user}")
            lo, hi = b.reply_after_seconds
            if not 0 <= lo <= hi:
                raise ValueError(f"bot {b.user}: reply_after_seconds must be [low, high]")
            lo, hi = b.starts_in_minutes
            if not 0 < lo <= hi:
                raise ValueError(f"bot {b.user}: starts_in_minutes must be [low, high] above 0")
        return self

    def game(self, ref: str) -> GameSpec | None:
        return next((g for g in self.games if ref in (g.id, g.convex_id)), None)
