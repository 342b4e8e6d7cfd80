"""Who may call each TeamBattles route: the published access rules, as one table.

Each row names what the key must hold (scopes at a level, a personal key, the paid ``writes``
feature) and the resource rule the caller must then pass, with the pages the row comes from
(paths under the service's documentation). The pipeline in :mod:`.routes` applies the key part
through :func:`~.auth.authorize` and the resource part through :func:`enforce`, both before the
handler runs; a write's own rule (who leads the team it acts for) is the domain rule the service
checks, named here so the table says where each refusal comes from.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from enum import StrEnum

from lobby.core.answers import PublishStatus
from lobby.emulator.teambattles.errors import ApiError
from lobby.emulator.teambattles.lookups import Lookups
from lobby.teambattles.rules import leads_team
from lobby.teambattles.vocab import ErrorCode as E
from lobby.teambattles.vocab import Visibility


class Gate(StrEnum):
    """The resource rule a route applies once the key may call it."""

    #: Any valid key.
    NONE = "none"
    #: Active members of the creator or accepted team; of the challenged team while the
    #: challenge is pending; a draft only to the creator team's captains.
    MATCH_PARTICIPANT = "match participant"
    #: Active members of the team in the path.
    TEAM_MEMBER = "team member"
    #: The team's profile: hidden when private, except to its active members.
    TEAM_PROFILE = "team profile"
    #: The team's roster: shown when the team is public or to its active members.
    TEAM_ROSTER = "team roster"
    #: The user's teams: refused for a private profile, except to its owner.
    USER_PROFILE = "user profile"
    #: A write acting as the key's owner, who must lead the team it acts for; checked by the
    #: service's domain rules (lobby.teambattles.rules and the match service).
    ACTS_AS_OWNER = "acts as owner"


@dataclass(frozen=True, slots=True)
class Access:
    #: Any one of these scopes at ``level`` (empty: no scope needed).
    scopes: tuple[str, ...]
    level: str
    #: Only a personal key may call it (a developer-app key is refused).
    personal: bool
    #: A write: needs the paid plan's ``writes`` feature.
    write: bool
    gate: Gate
    pages: tuple[str, ...]


_MATCH_READ = ("matches.user_matches", "matches.team_matches", "matches.org_matches")
_USER = ("matches.user_matches",)
_AUTH = "developers/authentication.mdx"
_PERSONAL = "developers/personal-api.mdx"


def _write(page: str) -> Access:
    return Access(
        _USER, "read-write", True, True, Gate.ACTS_AS_OWNER, (f"api-reference/matches/{page}", _AUTH)
    )


#: operationId -> its access rule.
ACCESS: dict[str, Access] = {
    "listGames": Access((), "read", False, False, Gate.NONE, ("api-reference/games/list.mdx",)),
    "discoverMatches": Access(
        ("matches.public_matches",),
        "read",
        False,
        False,
        Gate.NONE,
        ("api-reference/matches/discover.mdx",),
    ),
    "listUserMatches": Access(
        _USER, "read", True, False, Gate.NONE, ("api-reference/user/matches.mdx", _PERSONAL)
    ),
    "listUserOngoingMatches": Access(
        _USER, "read", True, False, Gate.NONE, ("api-reference/matches/ongoing.mdx", _PERSONAL)
    ),
    "listTeamMatches": Access(
        ("matches.team_matches",),
        "read",
        False,
        False,
        Gate.TEAM_MEMBER,
        ("api-reference/teams/matches.mdx",),
    ),
    "getMatchDetail": Access(
        _MATCH_READ, "read", False, False, Gate.MATCH_PARTICIPANT,
        ("api-reference/matches/detail.mdx",),
    ),
    "getMatchPlayers": Access(
        _MATCH_READ, "read", False, False, Gate.MATCH_PARTICIPANT,
        ("api-reference/matches/players.mdx", "api-reference/matches/detail.mdx"),
    ),
    "createMatch": _write("create-match.mdx"),
    "createMatchAcceptance": _write("create-match-acceptance.mdx"),
    "approveMatchAcceptance": _write("create-match-acceptance.mdx"),
    "declineMatchAcceptance": _write("create-match-acceptance.mdx"),
    "acceptMatchChallenge": _write("create-match.mdx"),
    "refuseMatchChallenge": _write("create-match.mdx"),
    "publishMatch": _write("create-match.mdx"),
    "cancelMatch": _write("cancel-match.mdx"),
    "getTeamProfile": Access(
        ("teams.profile",), "read", False, False, Gate.TEAM_PROFILE, ("openapi: getTeamProfile",)
    ),
    "listTeamMembers": Access(
        ("teams.roster",), "read", False, False, Gate.TEAM_ROSTER, ("openapi: listTeamMembers",)
    ),
    "listUserTeams": Access(
        ("users.profile",), "read", False, False, Gate.USER_PROFILE, ("openapi: listUserTeams",)
    ),
}


# --- the resource rules ---------------------------------------------------------------------------


def may_read_match(lookups: Lookups, match: sqlite3.Row, user_id: str) -> bool:
    """The participant rule of getMatchDetail and getMatchPlayers."""
    creator = match["creator_team_id"]
    if match["publish_status"] != PublishStatus.PUBLISHED:
        return leads_team(user_id, lookups.team_facts(creator))
    mine = set(lookups.team_ids_of(user_id))
    if creator in mine or match["accepted_team_id"] in mine:
        return True
    return match["challenged_team_id"] in mine and match["status"] == "PENDING"


def enforce(gate: Gate, lookups: Lookups, user_id: str, params: dict[str, str]) -> None:
    """Raise the service's refusal unless ``user_id`` passes ``gate`` for the path ``params``."""
    if gate in (Gate.NONE, Gate.ACTS_AS_OWNER, Gate.USER_PROFILE):
        return  # USER_PROFILE's rule filters rows as well as refusing; Reads.user_teams has it
    if gate is Gate.MATCH_PARTICIPANT:
        match = lookups.match_or_404(params["matchId"])
        if not may_read_match(lookups, match, user_id):
            raise ApiError(
                E.NOT_MATCH_PARTICIPANT,
                "Only the people of the teams in this match may read it.",
            )
        return
    team = lookups.team_or_404(params["identifier"])
    member = user_id in lookups.team_facts(team["id"]).members
    if member:
        return
    if gate is Gate.TEAM_MEMBER:
        raise ApiError(E.FORBIDDEN, "Only the team's active members may list its matches.")
    visibility = team["visibility"]
    hidden = (
        visibility != Visibility.PUBLIC
        if gate is Gate.TEAM_ROSTER
        else visibility == Visibility.PRIVATE
    )
    if hidden:
        raise ApiError(E.FORBIDDEN, "This team is not public.")
