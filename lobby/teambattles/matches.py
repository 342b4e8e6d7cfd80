"""A match as lobby's client sees it: the service's answers turned into rule facts and offers,
drafts turned into request bodies, and what the client may judge of a draft by itself.

Pure functions of what the service answered; no I/O. The rules themselves are
:mod:`lobby.teambattles.rules`, shared with the emulator; :func:`judge` runs them for the
client and keeps only the violations it can judge fairly (:func:`judgeable`), for the form and
for a send alike.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime

from lobby.core.answers import (
    LEADER_ROLES,
    AcceptanceDraft,
    AcceptanceFacts,
    BenchEntry,
    GameFacts,
    MatchFacts,
    MatchStatus,
    PublishStatus,
    TeamFacts,
    TeamRole,
    Violation,
)
from lobby.core.offers import Offer, OfferKind
from lobby.teambattles import rules
from lobby.teambattles import wire as m
from lobby.teambattles.vocab import ErrorCode, EventType

#: The request fields that name players: judged only where the team's roster is known.
ROSTER_FIELDS = frozenset({"activeRoster", "benchRoster"})

#: The codes that say the owner does not lead the team a draft acts for.
LEADER_CODES = frozenset(
    {ErrorCode.NOT_TEAM_LEADER, ErrorCode.ONLY_CAPTAINS_CAN_RESPOND_CHALLENGE}
)


# --- facts ----------------------------------------------------------------------------------------


def role_of(wire_role: str) -> TeamRole:
    """A membership role as the domain names it (``co-captain`` and ``CO_CAPTAIN`` alike)."""
    norm = wire_role.strip().upper().replace("-", "_").replace(" ", "_")
    try:
        return TeamRole(norm)
    except ValueError:
        return TeamRole.MEMBER


def leads(membership: m.UserTeamMembership) -> bool:
    """Whether my role on this team of mine makes me one of its leaders."""
    return role_of(membership.role) in LEADER_ROLES


def match_facts(match: m.MatchDetail, game_id: str, players: Iterable[str] = ()) -> MatchFacts:
    try:
        publish = PublishStatus(match.publish_status.upper())
    except ValueError:
        publish = PublishStatus.DRAFT
    return MatchFacts(
        id=match.id,
        status=match.status,
        publish_status=publish,
        game_id=game_id,
        game_mode=match.game_mode,
        team_size=match.team_size,
        creator_team_id=match.creator_team.id if match.creator_team else None,
        accepted_team_id=match.accepted_team.id if match.accepted_team else None,
        challenged_team_id=match.challenged_team.id if match.challenged_team else None,
        scheduled_at=match.scheduled_at,
        player_ids=frozenset(players),
    )


def game_facts(entry: m.GameCatalogEntry | None, game_id: str) -> GameFacts:
    if entry is None:
        return GameFacts(id=game_id, maps={}, mode_pools={})
    return GameFacts(
        id=game_id,
        maps={mp.id: mp.is_released for mp in entry.maps},
        mode_pools={
            mode.id: tuple(entry.pool(mode.id)) for mode in entry.modes if entry.pool(mode.id)
        },
        mode_ids=frozenset(mode.id for mode in entry.modes),
    )


def team_facts(
    team: m.TeamProfile, members: Sequence[m.TeamMember] | None, game_id: str | None
) -> TeamFacts:
    """The team as the key sees it. ``members`` is None when the roster is hidden from the key;
    no route names an organization's owner, so a team of an organization says it has one."""
    return TeamFacts(
        id=team.id,
        game_id=game_id,
        members={mb.user.id: role_of(mb.role) for mb in members or ()},
        name=team.name,
        roster_known=members is not None,
        in_organization=team.organization_id is not None,
    )


def user_ids(members: Sequence[m.TeamMember]) -> dict[str, str]:
    """Every way a draft may name a member (user id, or username in any case) -> user id."""
    out: dict[str, str] = {}
    for member in members:
        if member.user.username:
            out.setdefault(member.user.username.casefold(), member.user.id)
    for member in members:
        out[member.user.id] = member.user.id
    return out


def resolved(draft: AcceptanceDraft, team_id: str, ids: Mapping[str, str]) -> AcceptanceDraft:
    """``draft`` for ``team_id`` with each player as a user id; a name no member goes by stays as
    given, so the rules can name it."""

    def one(ref: str) -> str:
        return ids.get(ref) or ids.get(ref.casefold()) or ref

    return dataclasses.replace(
        draft,
        team_id=team_id,
        active_roster=tuple(one(u) for u in draft.active_roster),
        bench=tuple(BenchEntry(one(b.user_id), b.priority) for b in draft.bench),
    )


# --- offers ---------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, slots=True)
class Mine:
    """My team ids, the ones I lead, and the games those play; None where unknown."""

    teams: frozenset[str] | None = None
    led: frozenset[str] | None = None
    games: frozenset[str] | None = None


def is_open(match: m.MatchDetail, now: datetime) -> bool:
    """Published, PENDING, without an opponent, and not started: a match that takes answers."""
    if match.status != MatchStatus.PENDING or match.accepted_team is not None:
        return False
    if match.publish_status.upper() != PublishStatus.PUBLISHED:
        return False
    return match.scheduled_at is None or match.scheduled_at > now


def needs_game(match: m.MatchDetail, mine: Mine) -> bool:
    """Whether :func:`offer_kind` needs the match's game: an open match, when my games are known."""
    return mine.led is not None and mine.games is not None and match.challenged_team is None


def needs_membership(match: m.MatchDetail, mine: Mine) -> bool:
    """Whether :func:`offer_kind` needs to know if the creator's team is mine: only when who I
    am is unknown."""
    return mine.led is None and match.creator_team is not None


def offer_kind(
    match: m.MatchDetail,
    mine: Mine,
    now: datetime,
    *,
    game_id: str | None = None,
    creator_is_mine: bool = False,
) -> OfferKind | None:
    """What offer ``match`` is to me, or None if it is none. ``game_id`` is the match's game (see
    :func:`needs_game`); ``creator_is_mine`` whether I am on the creator's team (see
    :func:`needs_membership`)."""
    if not is_open(match, now):
        return None
    creator = match.creator_team.id if match.creator_team else None
    challenged = match.challenged_team.id if match.challenged_team else None
    if mine.led is not None:
        if creator in mine.led:
            return None  # my own match
        if challenged is not None:
            return OfferKind.TEAMBATTLES_CHALLENGE if challenged in mine.led else None
        if mine.games is not None and game_id not in mine.games:
            return None
        return OfferKind.TEAMBATTLES_MATCH
    if creator_is_mine:
        return None  # who I am is unknown, but this team is mine: so is its match
    if challenged is not None:
        # A challenge I can see, to a team that is not the creator: it is to my team.
        return OfferKind.TEAMBATTLES_CHALLENGE
    return OfferKind.TEAMBATTLES_MATCH


def offer_from_match(match: m.MatchDetail, kind: OfferKind) -> Offer:
    creator = match.creator_team
    who = f"{creator.name} [{creator.tag}]" if creator else "unknown team"
    size = f"{match.team_size}v{match.team_size}"
    facts = {
        "game": match.game.name_key,
        "gameId": match.game.id,
        "mode": match.game_mode,
        "teamSize": str(match.team_size),
        "bestOf": str(match.best_of),
        "creatorTeam": creator.name if creator else "",
        "creatorTeamId": creator.id if creator else "",
    }
    for key, value in (
        ("matchType", match.match_type),
        ("platform", match.platform),
        ("region", match.region),
    ):
        if value:
            facts[key] = value
    if match.challenged_team is not None:
        facts["challengedTeam"] = match.challenged_team.name
        facts["challengedTeamId"] = match.challenged_team.id
    verb = "challenges you" if kind is OfferKind.TEAMBATTLES_CHALLENGE else "looks for an opponent"
    return Offer(
        kind=kind,
        id=match.id,
        title=f"{who} {verb}: {match.game.name_key} {match.game_mode} {size}",
        status=match.status.value,
        deadline=match.scheduled_at,
        facts=facts,
    )


def closed_outcome(match: m.MatchDetail, my_team_ids: frozenset[str], event_type: str | None = None) -> str:
    """How a match that is no longer an offer ended, in words; ``event_type`` is the event that
    said so, when one did (a refused challenge is cancelled, but it was refused)."""
    accepted = match.accepted_team
    challenged = match.challenged_team
    if event_type == EventType.CHALLENGE_REFUSED and challenged is not None:
        return f"{challenged.name} refused the challenge."
    if match.status == MatchStatus.CANCELLED:
        return "The match was cancelled."
    if accepted is not None:
        if accepted.id in my_team_ids:
            return f"Your team {accepted.name} will play it."
        return f"{accepted.name} will play it."
    if match.status != MatchStatus.PENDING:
        return f"The match is {match.status.value}."
    return "The match is no longer open."


def eligible_teams(facts: Sequence[AcceptanceFacts]) -> list[AcceptanceFacts]:
    """The teams a captain is offered: for a challenge the challenged team; otherwise teams I
    lead (when who I am is known) that play the match's game and did not create it."""
    out = []
    for f in facts:
        match, team = f.match, f.team
        if match.is_challenge:
            if team.id == match.challenged_team_id:
                out.append(f)
            continue
        if team.id == match.creator_team_id:
            continue
        if rules.rule_team_plays_game(team, match.game_id):
            continue
        if f.owner_id and team.members and not rules.leads_team(f.owner_id, team):
            continue
        out.append(f)
    return out


# --- judging --------------------------------------------------------------------------------------


def judgeable(found: Iterable[Violation], facts: AcceptanceFacts) -> list[Violation]:
    """The violations the client can judge fairly with what ``facts`` know; the service judges
    the rest. Unknowable: leadership when who I am is unknown, when the roster is hidden, or when
    I may lead through the team's organization (no route names its owner); the roster when the
    key cannot see it."""
    team = facts.team
    unsure_leader = (
        not facts.owner_id
        or not team.roster_known
        or (
            team.in_organization
            and team.organization_owner_id is None
            and not rules.leads_team(facts.owner_id, team)
        )
    )
    out = []
    for v in found:
        if v.code in LEADER_CODES and unsure_leader:
            continue
        if not team.roster_known and v.field in ROSTER_FIELDS:
            continue
        out.append(v)
    return out


def judge(draft: AcceptanceDraft, facts: AcceptanceFacts) -> list[Violation]:
    """Every rule ``draft`` breaks that the client can judge, at ``facts.now``: a request for an
    open match, or the roster that takes up a challenge. Empty when it may be sent."""
    if facts.match.is_challenge:
        found = rules.check_draft_shape(draft) or rules.check_challenge_response(
            facts.owner_id, draft.roster, facts.match, facts.team, facts.now
        )
    else:
        found = rules.check_acceptance(draft, facts)
    return judgeable(found, facts)


def judge_refusal(facts: AcceptanceFacts) -> list[Violation]:
    """What stops the client refusing the challenge ``facts`` describe, as far as it can judge."""
    found = rules.check_challenge_refusal(facts.owner_id, facts.match, facts.team, facts.now)
    return judgeable(found, facts)


def describe_violations(violations: Iterable[Violation]) -> str:
    """One paragraph for a person: what is wrong, every problem once."""
    seen: list[str] = []
    for v in violations:
        if v.details not in seen:
            seen.append(v.details)
    return "Not sent: " + " ".join(seen)


# --- bodies ---------------------------------------------------------------------------------------


def bench_body(draft: AcceptanceDraft) -> list[m.BenchPlayer] | None:
    return [m.BenchPlayer(id=b.user_id, priority=b.priority) for b in draft.bench] or None


def acceptance_body(draft: AcceptanceDraft) -> m.AcceptMatchRequestBody:
    """The wire body for a checked draft."""
    return m.AcceptMatchRequestBody(
        team_id=draft.team_id,
        active_roster=list(draft.active_roster),
        bench_roster=bench_body(draft),
        disputed_rules=dict(draft.disputed_rules) or None,
        map_preference_mode=draft.map_mode,
        selected_maps=list(draft.selected_maps) or None,
        message=draft.message,
    )


def challenge_body(draft: AcceptanceDraft) -> m.AcceptChallengeRequestBody:
    """The wire body that takes up a challenge with the draft's roster."""
    return m.AcceptChallengeRequestBody(
        active_roster=list(draft.active_roster), bench_roster=bench_body(draft)
    )
