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
from datetime import datetime
from typing import Any

from lobby.core.answers import (
    LEADER_ROLES,
    AcceptanceDraft,
    AcceptanceFacts,
    BenchEntry,
    GameFacts,
    MapPreferenceMode,
    MatchFacts,
    MatchStatus,
    PublishStatus,
    RosterDraft,
    TeamFacts,
    Violation,
)
from lobby.teambattles.vocab import (
    BENCH_MAX,
    DISPUTED_RULE_LIST_MAX_ITEMS,
    DISPUTED_RULE_NAME_MAX_LENGTH,
    DISPUTED_RULE_TEXT_MAX_LENGTH,
    DISPUTED_RULES_MAX,
    MESSAGE_MAX_LENGTH,
    RESPONSE_MESSAGE_MAX_LENGTH,
    SELECTED_MAPS_MAX,
    AcceptanceStatus,
    ErrorCode,
)

__all__ = [
    "ACCEPTANCE_RULES",
    "Rule",
    "check_acceptance",
    "check_challenge_refusal",
    "check_challenge_response",
    "check_decision",
    "check_draft_shape",
    "first",
    "leads_team",
    "rule_active_roster",
    "rule_bench",
    "rule_disputed_rules",
    "rule_map_choice_shape",
    "rule_maps_in_pool",
    "rule_match_open",
    "rule_message",
    "rule_no_pending_acceptance",
    "rule_not_on_both_sides",
    "rule_not_own_match",
    "rule_owner_leads_team",
    "rule_roster",
    "rule_team_not_banned",
    "rule_team_plays_game",
]


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
                ErrorCode.MATCH_ALREADY_STARTED,
                f"The match is {match.status.value}; only PENDING matches take acceptance "
                "requests.",
            )
        ]
    if match.is_challenge:
        return [
            Violation(
                ErrorCode.CHALLENGE_ALREADY_PENDING,
                "The match is a direct challenge; only the challenged team can answer it.",
            )
        ]
    if now is not None and match.scheduled_at is not None and match.scheduled_at <= now:
        return [
            Violation(
                ErrorCode.MATCH_ALREADY_STARTED,
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
                ErrorCode.MATCH_NOT_CHALLENGE,
                "The match is not a challenge to this team.",
            )
        ]
    if match.status != MatchStatus.PENDING or match.accepted_team_id is not None:
        return [
            Violation(
                ErrorCode.CHALLENGE_NOT_PENDING,
                f"The challenge is {match.status.value}; only a PENDING challenge can be answered.",
            )
        ]
    if now is not None and match.scheduled_at is not None and match.scheduled_at <= now:
        return [
            Violation(
                ErrorCode.CHALLENGE_NOT_PENDING, "The challenge's scheduled start has passed."
            )
        ]
    if leads_team(owner_id, team):
        return []
    return [
        Violation(
            ErrorCode.ONLY_CAPTAINS_CAN_RESPOND_CHALLENGE,
            f"Only a captain, co-captain or the organization owner of {team.label()} can answer "
            "its challenges.",
            "teamId",
        )
    ]


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
                ErrorCode.MATCH_ALREADY_STARTED,
                f"The match is {match.status.value}; requests can only be answered while it is "
                "PENDING.",
            )
        ]
    if now is not None and match.scheduled_at is not None and match.scheduled_at <= now:
        return [
            Violation(ErrorCode.MATCH_ALREADY_STARTED, "The match's scheduled start has passed.")
        ]
    return []


def first(violations: Sequence[Violation]) -> Violation | None:
    return violations[0] if violations else None
