"""What the client makes of a match by itself: which violations it may judge (one rule for the
form and for a send), which offer a match is, and how a draft names its players."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from lobby.core.answers import (
    AcceptanceDraft,
    AcceptanceFacts,
    GameFacts,
    MatchFacts,
    MatchStatus,
    PublishStatus,
    TeamFacts,
    TeamRole,
    Violation,
)
from lobby.core.offers import OfferKind
from lobby.teambattles import wire as m
from lobby.teambattles.matches import Mine, judge, judgeable, offer_kind, resolved, user_ids
from lobby.teambattles.vocab import ErrorCode

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
FACTS = AcceptanceFacts(
    owner_id="me",
    match=MatchFacts(
        id="m1",
        status=MatchStatus.PENDING,
        publish_status=PublishStatus.PUBLISHED,
        game_id="g",
        game_mode="hp",
        team_size=2,
        creator_team_id="t_them",
        scheduled_at=NOW + timedelta(hours=1),
    ),
    team=TeamFacts(id="t_us", game_id="g", members={"me": TeamRole.MEMBER, "u2": TeamRole.MEMBER}),
    game=GameFacts(id="g", maps={}, mode_pools={}),
    now=NOW,
)
NOT_LEADER = Violation(ErrorCode.NOT_TEAM_LEADER, "Only a captain ...", "teamId")
ROSTER = Violation(ErrorCode.NOT_TEAM_MEMBER, "User x is not an active member ...", "activeRoster")
BENCH = Violation(ErrorCode.VALIDATION_FAILED, "bench ...", "benchRoster")
MESSAGE = Violation(ErrorCode.VALIDATION_FAILED, "message ...", "message")
ALL = [NOT_LEADER, ROSTER, BENCH, MESSAGE]


@pytest.mark.parametrize(
    ("facts", "kept"),
    [
        (FACTS, ALL),
        (replace(FACTS, owner_id=""), [ROSTER, BENCH, MESSAGE]),
        (replace(FACTS, team=replace(FACTS.team, members={}, roster_known=False)), [MESSAGE]),
        (replace(FACTS, team=replace(FACTS.team, in_organization=True)), [ROSTER, BENCH, MESSAGE]),
        (
            replace(FACTS, team=replace(FACTS.team, in_organization=True, organization_owner_id="boss")),
            ALL,
        ),
        (
            replace(
                FACTS,
                team=replace(FACTS.team, in_organization=True, members={"me": TeamRole.CAPTAIN}),
            ),
            ALL,
        ),
    ],
    ids=["all-known", "who-i-am-unknown", "roster-hidden", "organization", "owner-named", "i-lead"],
)
def test_the_client_judges_only_what_its_facts_know(facts: AcceptanceFacts, kept: list[Violation]) -> None:
    assert judgeable(ALL, facts) == kept


def test_judge_leaves_leadership_through_an_organization_to_the_service() -> None:
    draft = AcceptanceDraft.build("t_us", ["me", "u2"])
    assert [v.code for v in judge(draft, FACTS)] == [ErrorCode.NOT_TEAM_LEADER]
    organization = replace(FACTS, team=replace(FACTS.team, in_organization=True))
    assert judge(draft, organization) == []


def _match(**changes: object) -> m.MatchDetail:
    body: dict[str, object] = {
        "id": "m1", "status": "PENDING", "publishStatus": "PUBLISHED",
        "game": {"id": "g", "nameKey": "G"}, "gameMode": "hp",
        "creatorTeam": {"id": "t_them", "name": "Them", "tag": "TH"}, "acceptedTeam": None,
        "bestOf": 1, "teamSize": 2, "selectedMaps": [], "selectedObjectives": [],
        "winnerTeamId": None, "scheduledAt": (NOW + timedelta(hours=1)).isoformat(),
        "startedAt": None, "completedAt": None, "createdAt": None,
    }
    body.update(changes)
    return m.MatchDetail.model_validate(body)


MINE = Mine(teams=frozenset({"t_us", "t_other"}), led=frozenset({"t_us"}), games=frozenset({"g"}))
US = {"id": "t_us", "name": "Us", "tag": "US"}


@pytest.mark.parametrize(
    ("match", "mine", "game_id", "creator_is_mine", "kind"),
    [
        (_match(), MINE, "g", False, OfferKind.TEAMBATTLES_MATCH),
        (_match(), MINE, "other-game", False, None),
        (_match(creatorTeam=US), MINE, "g", False, None),
        (_match(challengedTeam=US), MINE, None, False, OfferKind.TEAMBATTLES_CHALLENGE),
        (_match(challengedTeam={"id": "t_x", "name": "X", "tag": "X"}), MINE, None, False, None),
        (_match(status="CANCELLED"), MINE, "g", False, None),
        (_match(publishStatus="DRAFT"), MINE, "g", False, None),
        (_match(scheduledAt=(NOW - timedelta(minutes=1)).isoformat()), MINE, "g", False, None),
        (_match(), Mine(), None, False, OfferKind.TEAMBATTLES_MATCH),
        (_match(), Mine(), None, True, None),
        (_match(challengedTeam=US), Mine(), None, False, OfferKind.TEAMBATTLES_CHALLENGE),
    ],
    ids=[
        "open", "other-game", "my-own", "challenge-to-me", "challenge-to-others", "cancelled",
        "draft", "started", "who-i-am-unknown", "unknown-but-my-team-made-it", "unknown-challenge",
    ],
)
def test_offer_kind(match: m.MatchDetail, mine: Mine, game_id: str | None, creator_is_mine: bool, kind: OfferKind | None) -> None:
    assert offer_kind(match, mine, NOW, game_id=game_id, creator_is_mine=creator_is_mine) is kind


def test_a_draft_names_players_by_id_or_by_username_in_any_case() -> None:
    members = [
        m.TeamMember.model_validate(
            {
                "id": f"tm_{u}", "role": "MEMBER", "joinedAt": None,
                "user": {"id": u, "username": name, "name": None, "avatarUrl": None, "visibility": "public", "createdAt": None},
            }
        )
        for u, name in (("u_you", "You"), ("u_ada", "ada"))
    ]
    draft = AcceptanceDraft.build("night-owls", ["you", "u_ada", "rex"], bench=[("ADA", 1)])
    got = resolved(draft, "t_owls", user_ids(members))
    assert got.team_id == "t_owls" and got.active_roster == ("u_you", "u_ada", "rex")
    assert got.bench[0].user_id == "u_ada"
