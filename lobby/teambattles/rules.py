"""TeamBattles acceptance rules: one implementation for the emulator and the client.

The emulator calls :func:`check_acceptance` (and its siblings) to reject a request with the error
code the real service answers; the client calls the same functions to explain a problem before it
submits anything. Every rule is a small pure function returning a list of :class:`Violation`; a
check runs its rules in a fixed order, so "the first violation" is well defined and the emulator
answers with that one.

Nothing here performs I/O. The facts a rule needs (the match, the accepting team's members and
their roles, the game's maps and pools, the teams that already have a request pending) are plain
frozen dataclasses that either side can build from what it knows.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

# --- limits --------------------------------------------------------------------------------------
# From the contract: page sizes of the two paginated listings.
DISCOVER_LIMIT_MIN = 1
DISCOVER_LIMIT_MAX = 100
DISCOVER_LIMIT_DEFAULT = 50
USER_MATCHES_NUM_ITEMS_MIN = 1
USER_MATCHES_NUM_ITEMS_MAX = 100
USER_MATCHES_NUM_ITEMS_DEFAULT = 25
#: From the contract: the series lengths a match may have.
BEST_OF_VALUES = (1, 3, 5, 7)

# The contract leaves the following open; lobby and its emulator hold every request to them, so a
# draft the client accepts is never refused by the emulator for its size.
MESSAGE_MAX_LENGTH = 500
RESPONSE_MESSAGE_MAX_LENGTH = 500
REASON_MAX_LENGTH = 500
NOTES_MAX_LENGTH = 1000
ID_MAX_LENGTH = 128
TEAM_SIZE_MAX = 12
BENCH_MAX = 8
SELECTED_MAPS_MAX = 20
DISPUTED_RULES_MAX = 10
DISPUTED_RULE_NAME_MAX_LENGTH = 64
DISPUTED_RULE_TEXT_MAX_LENGTH = 200
DISPUTED_RULE_LIST_MAX_ITEMS = 10


class ErrorCode(StrEnum):
    """The error codes lobby meets, as the service spells them in the ``error`` field.

    Clients branch on these, never on ``details``.
    """

    API_KEY_REQUIRED = "error_api_key_required"
    API_KEY_INVALID = "error_api_key_invalid"
    API_KEY_EXPIRED = "error_api_key_expired"
    API_KEY_PERMISSION_DENIED = "error_api_key_permission_denied"
    #: The same meaning as API_KEY_PERMISSION_DENIED, in the spelling the service uses when a key
    #: that is not personal calls a personal write.
    API_KEY_PERMISSION_DENIED_LEGACY = "API_KEY_PERMISSION_DENIED"
    API_FEATURE_REQUIRED = "error_api_feature_required"
    API_PLAN_REQUIRED = "error_api_plan_required"
    API_RATE_LIMITED = "error_api_rate_limited"
    IP_RATE_LIMITED = "error_ip_rate_limited"
    VALIDATION_FAILED = "error_validation_failed"
    IDEMPOTENCY_KEY_CONFLICT = "error_idempotency_key_conflict"
    MATCH_NOT_FOUND = "error_match_not_found"
    MATCH_NOT_PUBLISHED = "error_match_not_published"
    MATCH_ALREADY_ACCEPTED = "error_match_already_accepted"
    MATCH_CANNOT_ACCEPT_OWN = "error_match_cannot_accept_own"
    MATCH_NOT_IN_VALID_STATE = "error_match_not_in_valid_state"
    ACCEPTANCE_ALREADY_PENDING = "error_acceptance_already_pending"
    NOT_TEAM_LEADER = "error_not_team_leader"
    NOT_TEAM_MEMBER = "error_not_team_member"
    TEAM_GAME_MISMATCH = "error_team_game_mismatch"
    ROSTER_TOO_SMALL = "error_roster_too_small"
    INVALID_MAP_SELECTION = "error_invalid_map_selection"
    MAP_NOT_RELEASED = "error_map_not_released"
    MAP_SELECTION_NOT_SUPPORTED = "error_map_selection_not_supported"
    COMPETITIVE_BANNED = "error_competitive_banned"
    # Codes for situations the published subset names no code for. The emulator uses them; a
    # client should treat any unknown code by its HTTP status.
    API_KEY_REVOKED = "error_api_key_revoked"
    TEAM_NOT_FOUND = "error_team_not_found"
    USER_NOT_FOUND = "error_user_not_found"
    ACCEPTANCE_NOT_FOUND = "error_acceptance_not_found"
    ACCEPTANCE_NOT_PENDING = "error_acceptance_not_pending"
    PROFILE_PRIVATE = "error_profile_private"
    NOT_FOUND = "error_not_found"
    METHOD_NOT_ALLOWED = "error_method_not_allowed"
    INTERNAL = "error_internal"


#: Both spellings of "this key may not do that".
PERMISSION_DENIED_CODES = frozenset(
    {ErrorCode.API_KEY_PERMISSION_DENIED, ErrorCode.API_KEY_PERMISSION_DENIED_LEGACY}
)


def is_permission_denied(code: str) -> bool:
    """True for either spelling of the permission-denied code."""
    return code in PERMISSION_DENIED_CODES


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


class AcceptanceStatus(StrEnum):
    """Where a match acceptance request stands.

    SUPERSEDED: the creator approved another team's request. CANCELLED: the match was cancelled
    or started before anyone answered.
    """

    PENDING = "PENDING"
    APPROVED = "APPROVED"
    DECLINED = "DECLINED"
    SUPERSEDED = "SUPERSEDED"
    CANCELLED = "CANCELLED"


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
    """A team and the roles of its active members (user id -> role)."""

    id: str
    game_id: str | None
    members: Mapping[str, TeamRole]
    organization_owner_id: str | None = None
    competitive_banned: bool = False
    name: str = ""

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
    """Everything :func:`check_acceptance` needs besides the draft.

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


# --- single rules ---------------------------------------------------------------------------------


def leads_team(user_id: str, team: TeamFacts) -> bool:
    """Captains, co-captains and the owner of the team's organization lead a team."""
    if team.members.get(user_id) in LEADER_ROLES:
        return True
    return team.organization_owner_id is not None and team.organization_owner_id == user_id


def rule_owner_leads_team(owner_id: str, team: TeamFacts) -> list[Violation]:
    if leads_team(owner_id, team):
        return []
    return [
        Violation(
            ErrorCode.NOT_TEAM_LEADER,
            f"Only a captain, co-captain or the organization owner of {team.label()} can act "
            "for it.",
            "teamId",
        )
    ]


def rule_message(
    message: Any, *, field: str = "message", limit: int = MESSAGE_MAX_LENGTH
) -> list[Violation]:
    if message is None:
        return []
    if not isinstance(message, str):
        return [Violation(ErrorCode.VALIDATION_FAILED, f"{field} must be text.", field)]
    if len(message) > limit:
        return [
            Violation(
                ErrorCode.VALIDATION_FAILED,
                f"{field} is {len(message)} characters long; the limit is {limit}.",
                field,
            )
        ]
    if any(ord(c) < 32 and c not in "\n\t" for c in message):
        return [
            Violation(
                ErrorCode.VALIDATION_FAILED,
                f"{field} may not contain control characters other than newlines and tabs.",
                field,
            )
        ]
    return []


def _rule_value_problem(name: str, value: Any) -> str | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        if isinstance(value, float) and not math.isfinite(value):
            return f"disputed rule {name!r} must be a finite number."
        return None
    if isinstance(value, str):
        if len(value) > DISPUTED_RULE_TEXT_MAX_LENGTH:
            return (
                f"disputed rule {name!r} is {len(value)} characters long; "
                f"the limit is {DISPUTED_RULE_TEXT_MAX_LENGTH}."
            )
        return None
    if isinstance(value, list | tuple):
        if len(value) > DISPUTED_RULE_LIST_MAX_ITEMS:
            return (
                f"disputed rule {name!r} lists {len(value)} values; "
                f"the limit is {DISPUTED_RULE_LIST_MAX_ITEMS}."
            )
        for item in value:
            if not isinstance(item, str):
                return f"disputed rule {name!r} may only list text values."
            if len(item) > DISPUTED_RULE_TEXT_MAX_LENGTH:
                return (
                    f"a value of disputed rule {name!r} is longer than "
                    f"{DISPUTED_RULE_TEXT_MAX_LENGTH} characters."
                )
        return None
    return f"disputed rule {name!r} must be text, a number, true/false or a list of texts."


def rule_disputed_rules(rules: Any) -> list[Violation]:
    if rules is None:
        return []
    if not isinstance(rules, Mapping):
        return [
            Violation(
                ErrorCode.VALIDATION_FAILED,
                "disputedRules must be an object of rule names to values.",
                "disputedRules",
            )
        ]
    if len(rules) > DISPUTED_RULES_MAX:
        return [
            Violation(
                ErrorCode.VALIDATION_FAILED,
                f"{len(rules)} disputed rules proposed; the limit is {DISPUTED_RULES_MAX}.",
                "disputedRules",
            )
        ]
    out: list[Violation] = []
    for name, value in rules.items():
        if not isinstance(name, str) or not name.strip():
            out.append(
                Violation(
                    ErrorCode.VALIDATION_FAILED,
                    "Every disputed rule needs a non-blank name.",
                    "disputedRules",
                )
            )
            continue
        if len(name) > DISPUTED_RULE_NAME_MAX_LENGTH:
            out.append(
                Violation(
                    ErrorCode.VALIDATION_FAILED,
                    f"The disputed rule name {name[:20]!r}... is longer than "
                    f"{DISPUTED_RULE_NAME_MAX_LENGTH} characters.",
                    "disputedRules",
                )
            )
            continue
        problem = _rule_value_problem(name, value)
        if problem:
            out.append(
                Violation(
                    ErrorCode.VALIDATION_FAILED, problem[0].upper() + problem[1:], "disputedRules"
                )
            )
    return out


def rule_map_choice_shape(
    map_mode: MapPreferenceMode | None, selected_maps: Sequence[str]
) -> list[Violation]:
    """Maps come with a mode that says whether they are wanted or not, each at most once."""
    if not selected_maps:
        return []
    if map_mode is None:
        return [
            Violation(
                ErrorCode.VALIDATION_FAILED,
                "selectedMaps needs mapPreferenceMode (PREFERRED or VETO) to say what the maps "
                "mean.",
                "mapPreferenceMode",
            )
        ]
    if len(selected_maps) > SELECTED_MAPS_MAX:
        return [
            Violation(
                ErrorCode.VALIDATION_FAILED,
                f"{len(selected_maps)} maps selected; the limit is {SELECTED_MAPS_MAX}.",
                "selectedMaps",
            )
        ]
    seen: set[str] = set()
    for map_id in selected_maps:
        if map_id in seen:
            return [
                Violation(
                    ErrorCode.VALIDATION_FAILED,
                    f"Map {map_id!r} is selected more than once.",
                    "selectedMaps",
                )
            ]
        seen.add(map_id)
    return []


def rule_match_open(match: MatchFacts, now: datetime | None = None) -> list[Violation]:
    """The match is published, still PENDING, not a direct challenge and not yet started."""
    if match.publish_status != PublishStatus.PUBLISHED:
        return [
            Violation(
                ErrorCode.MATCH_NOT_PUBLISHED,
                "The match is not published, so it takes no acceptance requests.",
            )
        ]
    if match.status == MatchStatus.ACCEPTED or (
        match.accepted_team_id is not None and match.status != MatchStatus.CANCELLED
    ):
        return [
            Violation(
                ErrorCode.MATCH_ALREADY_ACCEPTED,
                "The match already has an opponent.",
            )
        ]
    if match.status != MatchStatus.PENDING:
        return [
            Violation(
                ErrorCode.MATCH_NOT_IN_VALID_STATE,
                f"The match is {match.status.value}; only PENDING matches take acceptance "
                "requests.",
            )
        ]
    if match.is_challenge:
        return [
            Violation(
                ErrorCode.MATCH_NOT_IN_VALID_STATE,
                "The match is a direct challenge; only the challenged team can answer it.",
            )
        ]
    if now is not None and match.scheduled_at is not None and match.scheduled_at <= now:
        return [
            Violation(
                ErrorCode.MATCH_NOT_IN_VALID_STATE,
                "The match's scheduled start has passed.",
            )
        ]
    return []


def rule_not_own_match(team_id: str, match: MatchFacts) -> list[Violation]:
    if match.creator_team_id is not None and match.creator_team_id == team_id:
        return [
            Violation(
                ErrorCode.MATCH_CANNOT_ACCEPT_OWN,
                "A team cannot accept a match it created.",
                "teamId",
            )
        ]
    return []


def rule_team_plays_game(team: TeamFacts, game_id: str) -> list[Violation]:
    if team.game_id != game_id:
        return [
            Violation(
                ErrorCode.TEAM_GAME_MISMATCH,
                f"{team.label()} does not play this match's game.",
                "teamId",
            )
        ]
    return []


def rule_team_not_banned(team: TeamFacts) -> list[Violation]:
    if team.competitive_banned:
        return [
            Violation(
                ErrorCode.COMPETITIVE_BANNED,
                f"{team.label()} is banned from competitive play.",
                "teamId",
            )
        ]
    return []


def rule_no_pending_acceptance(team_id: str, pending_team_ids: Iterable[str]) -> list[Violation]:
    if team_id in set(pending_team_ids):
        return [
            Violation(
                ErrorCode.ACCEPTANCE_ALREADY_PENDING,
                "This team already has a request pending on this match.",
                "teamId",
            )
        ]
    return []


def rule_active_roster(active: Sequence[str], team: TeamFacts, team_size: int) -> list[Violation]:
    """Exactly ``team_size`` distinct members of the team."""
    seen: set[str] = set()
    for user_id in active:
        if user_id in seen:
            return [
                Violation(
                    ErrorCode.VALIDATION_FAILED,
                    f"User {user_id} appears twice on the active roster.",
                    "activeRoster",
                )
            ]
        seen.add(user_id)
    for user_id in active:
        if user_id not in team.members:
            return [
                Violation(
                    ErrorCode.NOT_TEAM_MEMBER,
                    f"User {user_id} is not an active member of {team.label()}.",
                    "activeRoster",
                )
            ]
    if len(active) < team_size:
        return [
            Violation(
                ErrorCode.ROSTER_TOO_SMALL,
                f"The match is {team_size} a side; the active roster names {len(active)}.",
                "activeRoster",
            )
        ]
    if len(active) > team_size:
        return [
            Violation(
                ErrorCode.VALIDATION_FAILED,
                f"The match is {team_size} a side; the active roster names {len(active)}. "
                "Put the others on the bench.",
                "activeRoster",
            )
        ]
    return []


def rule_bench(
    bench: Sequence[BenchEntry], active: Sequence[str], team: TeamFacts
) -> list[Violation]:
    """Bench players are members, not on the active roster, each once, with a priority >= 0."""
    if len(bench) > BENCH_MAX:
        return [
            Violation(
                ErrorCode.VALIDATION_FAILED,
                f"{len(bench)} players on the bench; the limit is {BENCH_MAX}.",
                "benchRoster",
            )
        ]
    on_active = set(active)
    seen: set[str] = set()
    for entry in bench:
        if entry.user_id in seen:
            return [
                Violation(
                    ErrorCode.VALIDATION_FAILED,
                    f"User {entry.user_id} appears twice on the bench.",
                    "benchRoster",
                )
            ]
        seen.add(entry.user_id)
        if entry.user_id in on_active:
            return [
                Violation(
                    ErrorCode.VALIDATION_FAILED,
                    f"User {entry.user_id} is on both the active roster and the bench.",
                    "benchRoster",
                )
            ]
        if entry.user_id not in team.members:
            return [
                Violation(
                    ErrorCode.NOT_TEAM_MEMBER,
                    f"Bench player {entry.user_id} is not an active member of {team.label()}.",
                    "benchRoster",
                )
            ]
        p = entry.priority
        if isinstance(p, bool) or not isinstance(p, int | float) or not math.isfinite(p) or p < 0:
            return [
                Violation(
                    ErrorCode.VALIDATION_FAILED,
                    f"Bench player {entry.user_id} needs a priority that is a number of at "
                    "least 0.",
                    "benchRoster",
                )
            ]
    return []


def rule_not_on_both_sides(roster: RosterDraft, match: MatchFacts) -> list[Violation]:
    """Nobody on the proposed roster already plays in the match for the other side."""
    for user_id in (*roster.active, *(b.user_id for b in roster.bench)):
        if user_id in match.player_ids:
            return [
                Violation(
                    ErrorCode.VALIDATION_FAILED,
                    f"User {user_id} is already on the other side of this match.",
                    "activeRoster" if user_id in roster.active else "benchRoster",
                )
            ]
    return []


def rule_roster(roster: RosterDraft, team: TeamFacts, team_size: int) -> list[Violation]:
    """The active roster and the bench together."""
    return rule_active_roster(roster.active, team, team_size) or rule_bench(
        roster.bench, roster.active, team
    )


def rule_maps_in_pool(
    map_mode: MapPreferenceMode | None,
    selected_maps: Sequence[str],
    game: GameFacts,
    game_mode: str,
    *,
    field: str = "selectedMaps",
) -> list[Violation]:
    """Selected maps are released maps from the pool of the match's mode.

    A veto must leave at least one released map of the pool playable.
    """
    if not selected_maps:
        return []
    pool = game.mode_pools.get(game_mode) or ()
    if not pool:
        return [
            Violation(
                ErrorCode.MAP_SELECTION_NOT_SUPPORTED,
                f"The mode {game_mode!r} has no map pool, so it takes no map choices.",
                field,
            )
        ]
    for map_id in selected_maps:
        if map_id not in game.maps or map_id not in pool:
            return [
                Violation(
                    ErrorCode.INVALID_MAP_SELECTION,
                    f"Map {map_id!r} is not in the map pool of {game_mode!r}.",
                    field,
                )
            ]
        if not game.maps[map_id]:
            return [
                Violation(
                    ErrorCode.MAP_NOT_RELEASED,
                    f"Map {map_id!r} is not released yet.",
                    field,
                )
            ]
    if map_mode == MapPreferenceMode.VETO:
        playable = {m for m in pool if game.maps.get(m)}
        if playable <= set(selected_maps):
            return [
                Violation(
                    ErrorCode.INVALID_MAP_SELECTION,
                    "A veto must leave at least one map of the pool to play.",
                    field,
                )
            ]
    return []


# --- checks ---------------------------------------------------------------------------------------

Rule = Callable[[AcceptanceDraft, AcceptanceFacts], list[Violation]]

#: The acceptance rules in the order the service reports them: the request's own shape first,
#: then the match, then the team, then the roster and the maps.
ACCEPTANCE_RULES: tuple[tuple[str, Rule], ...] = (
    ("message", lambda d, f: rule_message(d.message)),
    ("disputed_rules", lambda d, f: rule_disputed_rules(d.disputed_rules)),
    ("map_choice_shape", lambda d, f: rule_map_choice_shape(d.map_mode, d.selected_maps)),
    ("match_open", lambda d, f: rule_match_open(f.match, f.now)),
    ("not_own_match", lambda d, f: rule_not_own_match(d.team_id, f.match)),
    ("owner_leads_team", lambda d, f: rule_owner_leads_team(f.owner_id, f.team)),
    ("team_plays_game", lambda d, f: rule_team_plays_game(f.team, f.match.game_id)),
    ("team_not_banned", lambda d, f: rule_team_not_banned(f.team)),
    (
        "no_pending_acceptance",
        lambda d, f: rule_no_pending_acceptance(d.team_id, f.pending_team_ids),
    ),
    ("active_roster", lambda d, f: rule_active_roster(d.active_roster, f.team, f.match.team_size)),
    ("bench", lambda d, f: rule_bench(d.bench, d.active_roster, f.team)),
    ("not_on_both_sides", lambda d, f: rule_not_on_both_sides(d.roster, f.match)),
    (
        "maps_in_pool",
        lambda d, f: rule_maps_in_pool(d.map_mode, d.selected_maps, f.game, f.match.game_mode),
    ),
)


def check_acceptance(draft: AcceptanceDraft, facts: AcceptanceFacts) -> list[Violation]:
    """Every rule the draft breaks, most fundamental first; empty when it may be sent."""
    out: list[Violation] = []
    for _name, rule in ACCEPTANCE_RULES:
        out.extend(rule(draft, facts))
    return out


def check_draft_shape(draft: AcceptanceDraft) -> list[Violation]:
    """The rules that need no facts at all (sizes and types of the draft's own fields)."""
    return (
        rule_message(draft.message)
        + rule_disputed_rules(draft.disputed_rules)
        + rule_map_choice_shape(draft.map_mode, draft.selected_maps)
    )


def check_challenge_response(
    owner_id: str,
    roster: RosterDraft,
    match: MatchFacts,
    team: TeamFacts,
    now: datetime | None = None,
) -> list[Violation]:
    """Accepting a direct challenge: the challenged team's leader, a PENDING challenge, a roster
    that fits the match."""
    out = check_challenge_refusal(owner_id, match, team, now)
    if out:
        return out
    return (
        rule_team_not_banned(team)
        or rule_roster(roster, team, match.team_size)
        or rule_not_on_both_sides(roster, match)
    )


def check_challenge_refusal(
    owner_id: str, match: MatchFacts, team: TeamFacts, now: datetime | None = None
) -> list[Violation]:
    """Refusing (or, with a roster, accepting) a direct challenge."""
    if not match.is_challenge or match.challenged_team_id != team.id:
        return [
            Violation(
                ErrorCode.MATCH_NOT_IN_VALID_STATE,
                "The match is not a challenge to this team.",
            )
        ]
    if match.status != MatchStatus.PENDING or match.accepted_team_id is not None:
        return [
            Violation(
                ErrorCode.MATCH_NOT_IN_VALID_STATE,
                f"The challenge is {match.status.value}; only a PENDING challenge can be answered.",
            )
        ]
    if now is not None and match.scheduled_at is not None and match.scheduled_at <= now:
        return [
            Violation(
                ErrorCode.MATCH_NOT_IN_VALID_STATE, "The challenge's scheduled start has passed."
            )
        ]
    return rule_owner_leads_team(owner_id, team)


def check_decision(
    owner_id: str,
    match: MatchFacts,
    creator_team: TeamFacts,
    acceptance_status: AcceptanceStatus,
    response_message: Any = None,
    now: datetime | None = None,
) -> list[Violation]:
    """The creator approving or declining a request: its leader, on an open match, a pending
    request, a bounded reply."""
    out = rule_message(response_message, field="responseMessage", limit=RESPONSE_MESSAGE_MAX_LENGTH)
    if out:
        return out
    if not leads_team(owner_id, creator_team):
        return [
            Violation(
                ErrorCode.NOT_TEAM_LEADER,
                f"Only a captain, co-captain or the organization owner of {creator_team.label()} "
                "can answer requests on its match.",
            )
        ]
    if acceptance_status == AcceptanceStatus.SUPERSEDED or match.status == MatchStatus.ACCEPTED:
        return [Violation(ErrorCode.MATCH_ALREADY_ACCEPTED, "The match already has an opponent.")]
    if acceptance_status != AcceptanceStatus.PENDING:
        return [
            Violation(
                ErrorCode.ACCEPTANCE_NOT_PENDING,
                f"The request is already {acceptance_status.value}.",
            )
        ]
    if match.status != MatchStatus.PENDING:
        return [
            Violation(
                ErrorCode.MATCH_NOT_IN_VALID_STATE,
                f"The match is {match.status.value}; requests can only be answered while it is "
                "PENDING.",
            )
        ]
    if now is not None and match.scheduled_at is not None and match.scheduled_at <= now:
        return [
            Violation(ErrorCode.MATCH_NOT_IN_VALID_STATE, "The match's scheduled start has passed.")
        ]
    return []


def first(violations: Sequence[Violation]) -> Violation | None:
    return violations[0] if violations else None
