"""TeamBattles vocabulary: the service's own words and limits, each defined here once.

Error codes, the statuses of requests, the regions, platforms and match types a match may
name, the other closed sets of words the contract spells out, the types of the emulator's
events, and the limits every request is held to. Pure: no framework, no I/O. The statuses of
a match, the roles in a team and the map preference modes, which a captain's answer and its
facts carry, live with those in :mod:`lobby.core.answers`.
"""

from __future__ import annotations

from enum import StrEnum

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

    Every one is a member of the published ``ApiErrorCode`` enum, except the legacy spelling the
    route pages give for a non-personal key on a personal write, which a client still accepts.
    Clients branch on these, never on ``details``.
    """

    API_KEY_REQUIRED = "error_api_key_required"
    API_KEY_INVALID = "error_api_key_invalid"
    API_KEY_EXPIRED = "error_api_key_expired"
    API_KEY_PERMISSION_DENIED = "error_api_key_permission_denied"
    #: The spelling the route pages print for a non-personal key on a personal write; the enum
    #: has only API_KEY_PERMISSION_DENIED, which the emulator answers. Accepted from a server.
    API_KEY_PERMISSION_DENIED_LEGACY = "API_KEY_PERMISSION_DENIED"
    API_FEATURE_REQUIRED = "error_api_feature_required"
    API_PLAN_REQUIRED = "error_api_plan_required"
    API_RATE_LIMITED = "error_api_rate_limited"
    IP_RATE_LIMITED = "error_ip_rate_limited"
    FORBIDDEN = "error_forbidden"
    INVALID_REQUEST = "error_invalid_request"
    VALIDATION_FAILED = "error_validation_failed"
    INVALID_LIMIT = "error_invalid_limit"
    INVALID_CURSOR = "error_invalid_cursor"
    INVALID_DATE_FORMAT = "error_invalid_date_format"
    INVALID_BEST_OF = "error_invalid_best_of"
    INVALID_GAME_MODE = "error_invalid_game_mode"
    IDEMPOTENCY_KEY_CONFLICT = "error_idempotency_key_conflict"
    MATCH_NOT_FOUND = "error_match_not_found"
    GAME_NOT_FOUND = "error_game_not_found"
    LEAGUE_NOT_FOUND = "error_league_not_found"
    NOT_MATCH_PARTICIPANT = "error_not_match_participant"
    MATCH_NOT_PUBLISHED = "error_match_not_published"
    MATCH_ALREADY_PUBLISHED = "error_match_already_published"
    MATCH_ALREADY_ACCEPTED = "error_match_already_accepted"
    MATCH_ALREADY_STARTED = "error_match_already_started"
    MATCH_CANNOT_ACCEPT_OWN = "error_match_cannot_accept_own"
    MATCH_NOT_CHALLENGE = "error_match_not_challenge"
    CHALLENGE_NOT_PENDING = "error_challenge_not_pending"
    CHALLENGE_ALREADY_PENDING = "error_challenge_already_pending"
    CANNOT_CHALLENGE_SELF = "error_cannot_challenge_self"
    ONLY_CAPTAINS_CAN_RESPOND_CHALLENGE = "error_only_captains_can_respond_challenge"
    ACCEPTANCE_ALREADY_PENDING = "error_acceptance_already_pending"
    NOT_TEAM_LEADER = "error_not_team_leader"
    NOT_TEAM_MEMBER = "error_not_team_member"
    TEAM_GAME_MISMATCH = "error_team_game_mismatch"
    ROSTER_TOO_SMALL = "error_roster_too_small"
    INVALID_MAP_SELECTION = "error_invalid_map_selection"
    MAP_NOT_RELEASED = "error_map_not_released"
    MAP_SELECTION_NOT_SUPPORTED = "error_map_selection_not_supported"
    COMPETITIVE_BANNED = "error_competitive_banned"
    TEAM_NOT_FOUND = "error_team_not_found"
    USER_NOT_FOUND = "error_user_not_found"
    ACCEPTANCE_NOT_FOUND = "error_acceptance_not_found"
    ACCEPTANCE_NOT_PENDING = "error_acceptance_not_pending"
    INTERNAL = "error_internal"


#: Both spellings of "this key may not do that".
PERMISSION_DENIED_CODES = frozenset(
    {ErrorCode.API_KEY_PERMISSION_DENIED, ErrorCode.API_KEY_PERMISSION_DENIED_LEGACY}
)


def is_permission_denied(code: str) -> bool:
    """True for either spelling of the permission-denied code."""
    return code in PERMISSION_DENIED_CODES


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


# --- what a match and its people are described with ---------------------------------------------


class Region(StrEnum):
    NONE = "NONE"
    NA_EAST = "NA_EAST"
    NA_WEST = "NA_WEST"
    EU = "EU"
    ASIA = "ASIA"
    OCEANIA = "OCEANIA"
    SOUTH_AMERICA = "SOUTH_AMERICA"
    MIDDLE_EAST = "MIDDLE_EAST"
    AFRICA = "AFRICA"


class Platform(StrEnum):
    PC = "PC"
    XBOX = "XBOX"
    PLAYSTATION = "PLAYSTATION"
    CONSOLE_ONLY = "CONSOLE_ONLY"
    CROSSPLAY = "CROSSPLAY"


class MatchType(StrEnum):
    XP_ONLY = "XP_ONLY"
    WAGER = "WAGER"


class CreateMapPreferenceMode(StrEnum):
    """The map preference modes a new match may take: the answers' two, and MANUAL."""

    PREFERRED = "PREFERRED"
    VETO = "VETO"
    MANUAL = "MANUAL"


class MapSelectionType(StrEnum):
    COMPETITIVE = "COMPETITIVE"
    FLEX = "FLEX"


class InputDevice(StrEnum):
    ALL = "ALL"
    CONTROLLER = "CONTROLLER"
    KB_M = "KB_M"


class Visibility(StrEnum):
    PUBLIC = "public"
    LIMITED = "limited"
    PRIVATE = "private"


class RosterType(StrEnum):
    ACTIVE = "ACTIVE"
    BENCH = "BENCH"


class AttendanceStatus(StrEnum):
    ATTENDING = "ATTENDING"
    NOT_ATTENDING = "NOT_ATTENDING"
    TENTATIVE = "TENTATIVE"


# --- events ---------------------------------------------------------------------------------------


class EventType(StrEnum):
    """The ``event`` of each TeamBattles event on the emulator's stream.

    The first six are the service's own webhooks; the ``emulator.*`` ones are the emulator's
    own, for what the service announces to nobody but the one who did it.
    """

    MATCH_CREATED = "match.created"
    MATCH_PUBLISHED = "match.published"
    MATCH_ACCEPTED = "match.accepted"
    ROSTER_UPDATED = "roster.updated"
    MATCH_CANCELLED = "match.cancelled"
    MATCH_STARTED = "match.started"
    ACCEPTANCE_CREATED = "emulator.acceptance.created"
    ACCEPTANCE_DECLINED = "emulator.acceptance.declined"
    ACCEPTANCE_SUPERSEDED = "emulator.acceptance.superseded"
    ACCEPTANCE_CANCELLED = "emulator.acceptance.cancelled"
    CHALLENGE_ACCEPTED = "emulator.challenge.accepted"
    CHALLENGE_REFUSED = "emulator.challenge.refused"


#: The events that carry an ``acceptance`` and say what became of it.
ACCEPTANCE_EVENTS = frozenset(
    {
        EventType.ACCEPTANCE_CREATED,
        EventType.ACCEPTANCE_DECLINED,
        EventType.ACCEPTANCE_SUPERSEDED,
        EventType.ACCEPTANCE_CANCELLED,
    }
)
