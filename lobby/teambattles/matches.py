"""A match as lobby's client sees it: the service's answers turned into rule facts and offers,
and drafts turned into request bodies. Pure functions: no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from lobby.core.answers import (
    AcceptanceDraft,
    AcceptanceFacts,
    GameFacts,
    MatchFacts,
    MatchStatus,
    PublishStatus,
    TeamRole,
    Violation,
)
from lobby.core.offers import Offer, OfferKind
from lobby.teambattles import rules
from lobby.teambattles import wire as m


def role_of(wire_role: str) -> TeamRole:
    """A membership role as the domain names it (``co-captain`` and ``CO_CAPTAIN`` alike)."""
    norm = wire_role.strip().upper().replace("-", "_").replace(" ", "_")
    try:
        return TeamRole(norm)
    except ValueError:
        return TeamRole.MEMBER


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


def describe_violations(violations: list[Violation]) -> str:
    """One paragraph for a person: what is wrong, every problem once."""
    seen: list[str] = []
    for v in violations:
        if v.details not in seen:
            seen.append(v.details)
    return "Not sent: " + " ".join(seen)


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


def closed_outcome(match: m.MatchDetail, my_team_ids: frozenset[str]) -> str:
    accepted = match.accepted_team
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
    """The teams offered in the form: for a challenge the challenged team; otherwise teams I
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


def bench_body(draft: AcceptanceDraft) -> list[m.BenchPlayer] | None:
    return [m.BenchPlayer(id=b.user_id, priority=b.priority) for b in draft.bench] or None


def acceptance_body(draft: AcceptanceDraft) -> m.AcceptMatchRequestBody:
    """The wire body for a checked draft."""
    return m.AcceptMatchRequestBody(
        team_id=draft.team_id,
        active_roster=list(draft.active_roster),
        bench_roster=bench_body(draft),
        disputed_rules=dict(draft.disputed_rules) or None,
        map_preference_mode=draft.map_mode.value if draft.map_mode else None,
        selected_maps=list(draft.selected_maps) or None,
        message=draft.message,
    )
