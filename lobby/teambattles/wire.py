"""TeamBattles wire models: the request and response bodies of the routes lobby uses.

Field names follow the published contract exactly (camelCase on the wire, snake_case here, via
aliases). Every model forbids fields the contract does not name, and a field the contract
requires has no default, so an answer that drifts from the contract fails loudly as a
:class:`~lobby.core.errors.ProtocolError` instead of being half-understood.
Request models are dumped with ``wire()``: aliases, no unset optional fields. The closed sets
of words (statuses, regions, platforms, ...) are the enums of :mod:`lobby.teambattles.vocab` and
:mod:`lobby.core.answers`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from lobby.core.answers import MapPreferenceMode, MatchStatus, PublishStatus
from lobby.teambattles.vocab import (
    DISCOVER_LIMIT_MAX,
    DISCOVER_LIMIT_MIN,
    USER_MATCHES_NUM_ITEMS_MAX,
    USER_MATCHES_NUM_ITEMS_MIN,
    AttendanceStatus,
    CreateMapPreferenceMode,
    InputDevice,
    MapSelectionType,
    MatchType,
    Platform,
    Region,
    RosterType,
    Visibility,
)


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


#: A point in time as the service sends it (ISO 8601); always timezone-aware here.
WireTime = Annotated[datetime, AfterValidator(_utc)]


class Wire(BaseModel):
    """Base of every wire model: camelCase aliases, nothing the contract does not name."""

    # defer_build: each model's validator is built when first used, not at import (most are
    # request bodies the console's start-up never sends).
    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="forbid", frozen=True, defer_build=True
    )

    def wire(self) -> dict[str, Any]:
        """The JSON body to send: aliases, and no optional field left unset."""
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)


# --- games -----------------------------------------------------------------------------------------


class GameMap(Wire):
    id: str
    name_key: str
    cover_image: str | None
    minimap_image: str | None
    is_released: bool


class GameMode(Wire):
    id: str
    name_key: str
    description_key: str | None
    image: str | None
    short_name: str | None
    reward_bonus: float | None
    supports_draft_toggle: bool
    map_ids: list[str]


class GamePlaylist(Wire):
    id: str
    name_key: str
    description_key: str | None
    image: str | None
    allowed_game_mode_ids: list[str]


class GameModeMapPool(Wire):
    mode_id: str
    map_ids: list[str]


class Objective(Wire):
    id: str
    title_key: str
    description_key: str
    exp: float = Field(ge=0)
    scope: str
    completion_rule: str


class GameCatalogEntry(Wire):
    id: str
    convex_id: str | None
    name_key: str
    short_name_key: str | None
    description_key: str | None
    category: str
    rules_link: str | None
    cover_image: str | None
    banner_image: str | None
    default_team_size: int = Field(gt=0)
    has_competitive_mode: bool
    is_coming_soon: bool
    is_available_for_match_api: bool
    modes: list[GameMode]
    maps: list[GameMap]
    playlists: list[GamePlaylist]
    mode_map_pools: list[GameModeMapPool]

    def refs(self) -> set[str]:
        """Every id this game is known by (its public id and its internal id)."""
        return {self.id} | ({self.convex_id} if self.convex_id else set())

    def pool(self, mode_id: str) -> list[str]:
        """The map ids of ``mode_id``'s pool (the pool table first, else the mode's own list)."""
        for pool in self.mode_map_pools:
            if pool.mode_id == mode_id:
                return list(pool.map_ids)
        for mode in self.modes:
            if mode.id == mode_id:
                return list(mode.map_ids)
        return []


class GameCatalog(Wire):
    games: list[GameCatalogEntry]
    objectives: list[Objective]
    timestamp: str


# --- matches ---------------------------------------------------------------------------------------


class GameRef(Wire):
    """The ``Game`` schema: the short reference a match carries."""

    id: str
    name_key: str


class Team(Wire):
    """The ``Team`` schema, as listed matches carry it."""

    id: str
    name: str
    tag: str
    avatar_url: str | None = None


class MatchTeam(Team):
    """``ApiMatchTeam``: a ``Team`` with the side's score."""

    score: int | None = None


class MatchDetail(Wire):
    id: str
    status: MatchStatus
    # The contract types these four as plain text in answers (the vocabulary's values only in
    # requests): kept as text, so a value new to lobby is shown, not a protocol error.
    publish_status: str
    game: GameRef
    game_mode: str
    match_type: str | None = None
    platform: str | None = None
    region: str | None = None
    creator_team: MatchTeam | None
    accepted_team: MatchTeam | None
    challenged_team: MatchTeam | None = None
    best_of: int
    team_size: int
    selected_maps: list[str]
    selected_objectives: list[str]
    winner_team_id: str | None
    scheduled_at: WireTime | None
    started_at: WireTime | None
    completed_at: WireTime | None
    created_at: WireTime | None
    league_id: str | None = None
    league_season_id: str | None = None


class MatchDetailResponse(Wire):
    match: MatchDetail
    timestamp: str


class MatchDiscoverBody(Wire):
    """Filters of ``POST /matches/discover``; ``game_id`` and ``game_slug`` exclude each other."""

    game_id: str | None = None
    game_slug: str | None = None
    platform: Platform | None = None
    region: Region | None = None
    match_type: MatchType | None = None
    scheduled_after: str | None = None
    scheduled_before: str | None = None
    league_id: str | None = None
    league_season_id: str | None = None
    limit: int | None = Field(default=None, ge=DISCOVER_LIMIT_MIN, le=DISCOVER_LIMIT_MAX)
    cursor: str | None = None


class MatchDiscoverPage(Wire):
    data: list[MatchDetail]
    next_cursor: str | None
    has_more: bool
    timestamp: str


class MatchesRequestBody(Wire):
    """Filters of ``POST /user/matches``."""

    num_items: int | None = Field(
        default=None, ge=USER_MATCHES_NUM_ITEMS_MIN, le=USER_MATCHES_NUM_ITEMS_MAX
    )
    cursor: str | None = None
    include_statuses: list[MatchStatus] | None = None
    exclude_statuses: list[MatchStatus] | None = None
    game_id: str | None = None
    scheduled_after: str | None = None
    scheduled_before: str | None = None
    created_after: str | None = None
    created_before: str | None = None
    opponent_id: str | None = None


class UserMatch(Wire):
    id: str
    status: MatchStatus
    game: GameRef
    game_mode: str
    creator_team: Team | None
    accepted_team: Team | None
    scheduled_at: WireTime | None
    started_at: WireTime | None
    completed_at: WireTime | None
    best_of: int


class UserMatchesPage(Wire):
    page: list[UserMatch]
    is_done: bool
    continue_cursor: str


class OngoingMatches(Wire):
    matches: list[MatchDetail]
    timestamp: str


class MatchPlayer(Wire):
    id: str
    user_id: str
    team_id: str
    username: str | None
    name: str | None
    avatar_url: str | None = None
    roster_type: RosterType
    attendance_status: AttendanceStatus
    is_checked_in: bool
    checked_in_at: str | None


class MatchPlayers(Wire):
    match_id: str
    players: list[MatchPlayer]
    timestamp: str


# --- teams and people ------------------------------------------------------------------------------


class UserProfile(Wire):
    id: str
    username: str | None
    name: str | None
    avatar_url: str | None
    banner_url: str | None = None
    is_verified: bool | None = None
    bio: str | None = None
    visibility: Visibility
    created_at: str | None


class TeamMember(Wire):
    """A membership row: ``id`` is the membership id; the person is ``user.id``."""

    id: str
    user: UserProfile
    role: str
    joined_at: str | None


class TeamMembers(Wire):
    members: list[TeamMember]
    count: int = Field(ge=0)
    timestamp: str


class OrganizationSummary(Wire):
    """``ApiOrganizationSummary``; the fields every team and organization answer opens with."""

    id: str
    slug: str | None = None
    name: str
    tag: str | None = None
    avatar_url: str | None = None
    visibility: Visibility | None = None


class UserTeamMembership(OrganizationSummary):
    role: str
    joined_at: str | None
    organization: OrganizationSummary | None = None


class UserTeams(Wire):
    teams: list[UserTeamMembership]
    count: int = Field(ge=0)
    timestamp: str


class TeamProfile(OrganizationSummary):
    banner_url: str | None = None
    description: str | None = None
    game_id: str | None = None
    organization_id: str | None = None
    is_member: bool
    member_count: int | None = Field(default=None, ge=0)
    wins: int | None = Field(default=None, ge=0)
    losses: int | None = Field(default=None, ge=0)
    draws: int | None = Field(default=None, ge=0)
    matches_played: int | None = Field(default=None, ge=0)
    experience: float | None = Field(default=None, ge=0)
    created_at: str | None


class TeamProfileResponse(Wire):
    team: TeamProfile
    timestamp: str


# --- writes ----------------------------------------------------------------------------------------


class BenchPlayer(Wire):
    id: str = Field(min_length=1)
    priority: float


DisputedRuleValue = str | bool | int | float | list[str]


class RosterBody(Wire):
    """The roster every write that puts a side on a match sends (``AcceptChallengeRequestBody``)."""

    active_roster: list[Annotated[str, Field(min_length=1)]] = Field(min_length=1)
    bench_roster: list[BenchPlayer] | None = None


#: ``acceptMatchChallenge``'s body is the roster alone.
AcceptChallengeRequestBody = RosterBody


class AcceptMatchRequestBody(RosterBody):
    """The body of ``createMatchAcceptance``. The acting user is always the key's owner."""

    team_id: str = Field(min_length=1)
    disputed_rules: dict[str, DisputedRuleValue] | None = None
    map_preference_mode: MapPreferenceMode | None = None
    selected_maps: list[str] | None = None
    message: str | None = None


class AcceptMatchResponse(Wire):
    success: Literal[True]
    acceptance_id: str
    timestamp: str


class DeclineAcceptanceRequestBody(Wire):
    """The creator's answer to an acceptance request; approving may also narrow the maps."""

    response_message: str | None = None


class ApproveAcceptanceRequestBody(DeclineAcceptanceRequestBody):
    available_maps: list[str] | None = None


class ReasonBody(Wire):
    """``{reason?}``: refusing a challenge and cancelling a match."""

    reason: str | None = None


RefuseChallengeRequestBody = ReasonBody
CancelMatchRequestBody = ReasonBody


class SuccessResponse(Wire):
    """Approve, decline, publish and both challenge answers: ``{success, timestamp}``."""

    success: Literal[True]
    timestamp: str


class CreateMatchRequestBody(RosterBody):
    team_id: str = Field(min_length=1)
    game_id: str = Field(min_length=1)
    game_mode_id: str = Field(min_length=1)
    match_type: MatchType
    map_selection_type: MapSelectionType
    map_preference_mode: CreateMapPreferenceMode
    team_size: int
    best_of: int
    platform: Platform | None = None
    input_device: InputDevice | None = None
    region: Region | None = None
    #: Epoch milliseconds, as the contract types it (a number).
    scheduled_at: float | None = None
    wager_amount: float | None = None
    selected_maps: list[str] | None = None
    selected_objectives: list[str] | None = None
    game_specific_options: dict[str, str | bool | int | float] | None = None
    locked_rules: dict[str, bool] | None = None
    notes: str | None = None
    publish_status: PublishStatus | None = None
    is_challenge: bool | None = None
    challenged_team_id: str | None = None
    league_id: str | None = None


class MatchIdResponse(Wire):
    """``createMatch`` and ``cancelMatch``: ``{success, matchId, timestamp}``."""

    success: Literal[True]
    match_id: str
    timestamp: str


class ErrorEnvelope(BaseModel):
    """``{"error": code, "details"?: sentence}``. Branch on ``error``; ``details`` is for people."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    error: str
    details: str | None = None
