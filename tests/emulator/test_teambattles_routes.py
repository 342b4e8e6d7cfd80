"""TeamBattles read routes: every answer validates against the committed contract (the TB client
checks each one), and pagination works in each route's own style."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

import httpx
import pytest
from teambattles_helpers import ADA, TB, VIPER, YOU, contract, error_of

from lobby.emulator.runtime import EmulatorConfig
from lobby.emulator.server import EmulatorThread


@pytest.fixture(scope="module")
def shared() -> Iterator[EmulatorThread]:
    """One emulator for these read-only tests (nothing here changes state or moves the clock)."""
    with EmulatorThread(EmulatorConfig()) as emu:
        yield emu


@pytest.fixture
def tb(shared: EmulatorThread) -> Iterator[TB]:
    client = TB(shared.url)
    yield client
    client.close()


def test_every_served_route_is_in_the_contract(shared):
    """The emulator serves a part of the published document (the routes lobby uses); each one
    is there, with its method."""
    served = {
        (next(iter(route.methods)), route.path)
        for route in shared.app.routes
        if getattr(route, "path", "").startswith("/api/v1/")
        and getattr(route, "name", "").startswith("teambattles.")
        and not route.name.startswith("teambattles.fallback")
    }
    published = {
        (method.upper(), "/api/v1" + path)
        for path, ops in contract()["paths"].items()
        for method in ops
    }
    assert served and served <= published
    assert ("POST", "/api/v1/teams/{identifier}/matches") in served


def test_games_list_modes_maps_and_pools(tb):
    r = tb.get("/games")
    assert r.status_code == 200
    games = {g["id"]: g for g in r.json()["games"]}
    sky = games["skyline-strike"]
    assert sky["convexId"] == "gm_skyline" and sky["defaultTeamSize"] == 4
    pools = {p["modeId"]: p["mapIds"] for p in sky["modeMapPools"]}
    assert "orbital" in pools["hardpoint"]
    assert {m["id"]: m["isReleased"] for m in sky["maps"]}["orbital"] is False
    assert "free_for_all" not in pools  # a mode without a pool takes no map choices
    assert games["starfall-arena"]["isComingSoon"] is True
    assert r.json()["objectives"]


def discover_all(tb: TB, **filters) -> list[dict]:
    seen, cursor = [], None
    for _ in range(50):
        body = {"limit": 2, **filters}
        if cursor is not None:
            body["cursor"] = cursor
        r = tb.post("/matches/discover", body)
        assert r.status_code == 200, r.text
        page = r.json()
        assert len(page["data"]) <= 2
        seen += page["data"]
        assert page["hasMore"] == (page["nextCursor"] is not None)
        if not page["hasMore"]:
            return seen
        cursor = page["nextCursor"]
    raise AssertionError("discover never ended")


def test_discover_walks_every_open_match_once_in_start_order(tb):
    matches = discover_all(tb)
    ids = [m["id"] for m in matches]
    assert len(ids) == len(set(ids))
    starts = [datetime.fromisoformat(m["scheduledAt"]) for m in matches]
    assert starts == sorted(starts)
    assert {"tbm_vipers_hp", "tbm_tide_skirmish", "tbm_owls_open"} <= set(ids)
    for m in matches:
        assert m["status"] == "PENDING" and m["publishStatus"] == "PUBLISHED"
        assert m["challengedTeam"] is None and m["acceptedTeam"] is None
    hidden = {
        "tbm_foxes_draft",
        "tbm_vipers_challenge_owls",
        "tbm_owls_vs_foxes",
        "tbm_tigers_live",
    }
    assert not hidden & set(ids)
    one_page = tb.post("/matches/discover", {}).json()
    assert [m["id"] for m in one_page["data"]] == ids and one_page["nextCursor"] is None


def test_discover_filters(tb):
    by_slug = {m["id"] for m in discover_all(tb, gameSlug="iron-tide")}
    by_id = {m["id"] for m in discover_all(tb, gameId="gm_irontide")}
    assert by_slug == by_id == {"tbm_tide_siege", "tbm_tide_skirmish"}
    assert {m["id"] for m in discover_all(tb, region="EU")} == {"tbm_vipers_hp"}
    assert {m["id"] for m in discover_all(tb, platform="PC")} == {"tbm_foxes_ctrl"}
    assert discover_all(tb, leagueId="lg_1") == []
    assert discover_all(tb, gameSlug="no-such-game") == []
    soon = discover_all(tb, scheduledBefore="2000-01-01T00:00:00Z")
    assert soon == []


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"gameId": "gm_skyline", "gameSlug": "skyline-strike"}, "error_validation_failed"),
        ({"limit": 0}, "error_invalid_limit"),
        ({"limit": 101}, "error_invalid_limit"),
        ({"limit": "5"}, "error_invalid_limit"),
        ({"cursor": "not-a-cursor"}, "error_invalid_cursor"),
        ({"cursor": 7}, "error_invalid_cursor"),
        ({"cursor": "WzAsIDkyMjMzNzIwMzY4NTQ3NzU4MDhd"}, "error_invalid_cursor"),  # [0, 2**63]
        ({"scheduledAfter": "yesterday"}, "error_invalid_date_format"),
        ({"platform": "AMIGA"}, "error_validation_failed"),
        ({"leagueSeasonId": "ls_1"}, "error_validation_failed"),
    ],
)
def test_discover_refuses_bad_filters(tb, body, code):
    r = tb.post("/matches/discover", body, valid=False)
    assert r.status_code == 400 and error_of(r) == code
    assert r.json()["details"]


def test_user_matches_walk_newest_first_with_continue_cursor(tb):
    seen, cursor = [], None
    while True:
        body = {"numItems": 3} if cursor is None else {"numItems": 3, "cursor": cursor}
        page = tb.post("/user/matches", body).json()
        seen += page["page"]
        assert page["continueCursor"]  # never null, even on the last page
        cursor = page["continueCursor"]
        if page["isDone"]:
            break
    ids = [m["id"] for m in seen]
    assert len(ids) == len(set(ids))
    # Matches the demo user is on the roster of (user/matches.mdx); a challenge to a team of
    # theirs is on no roster of theirs yet: the team's own matches list it.
    assert {"tbm_owls_open", "tbm_wolves_open", "tbm_owls_vs_foxes", "tbm_tigers_live"} <= set(ids)
    assert "tbm_vipers_hp" not in ids and "tbm_vipers_challenge_owls" not in ids
    team = tb.post("/teams/{identifier}/matches", {"numItems": 100}, identifier="night-owls")
    assert "tbm_vipers_challenge_owls" in {m["id"] for m in team.json()["page"]}
    again = tb.post("/user/matches", {"cursor": cursor}).json()
    assert again["page"] == [] and again["isDone"] is True


def test_user_matches_filters(tb):
    def ids(**body):
        return {m["id"] for m in tb.post("/user/matches", {"numItems": 100, **body}).json()["page"]}

    assert ids(includeStatuses=["IN_PROGRESS"]) == {"tbm_tigers_live"}
    assert "tbm_tigers_live" not in ids(excludeStatuses=["IN_PROGRESS", "NOT_A_STATUS"])
    assert ids(includeStatuses=["NOT_A_STATUS"]) == ids()  # unknown values are ignored
    assert ids(gameId="gm_irontide") == {"tbm_tigers_live"}
    assert ids(opponentId="glacier-foxes") == {"tbm_owls_vs_foxes"}
    r = tb.post("/user/matches", {"opponentId": "no-such-team"}, valid=False)
    # The route page gives 404 here; the contract lists no 404 for this route (400 then).
    assert (r.status_code, error_of(r)) == (400, "error_team_not_found")
    assert ids(createdAfter="2999-01-01T00:00:00Z") == set()
    r = tb.post("/user/matches", {"numItems": 0}, valid=False)
    assert (r.status_code, error_of(r)) == (400, "error_invalid_limit")


def test_ongoing_matches_are_the_owners_arranged_ones(tb):
    ongoing = {m["id"]: m for m in tb.get("/user/ongoing-matches").json()["matches"]}
    assert set(ongoing) == {"tbm_owls_vs_foxes", "tbm_tigers_live"}
    assert ongoing["tbm_owls_vs_foxes"]["acceptedTeam"]["id"] == "t_owls"
    assert (
        tb.as_(ADA).get("/user/ongoing-matches").json()["matches"][0]["id"] == "tbm_owls_vs_foxes"
    )


def test_match_detail_and_players(tb):
    match = tb.match("tbm_vipers_hp")
    assert match["creatorTeam"]["id"] == "t_vipers" and match["teamSize"] == 4
    assert match["selectedMaps"] == ["harbor", "foundry"]
    # Players are participant-gated like the match: the creator's captain reads them.
    players = tb.as_(VIPER).get("/matches/{matchId}/players", matchId="tbm_vipers_hp").json()[
        "players"
    ]
    r = tb.get("/matches/{matchId}/players", matchId="tbm_vipers_hp")
    assert (r.status_code, error_of(r)) == (403, "error_not_match_participant")
    active = [p for p in players if p["rosterType"] == "ACTIVE"]
    assert len(active) == 4 and active[0]["userId"] == "bot_viper"
    assert [p["rosterType"] for p in players].count("BENCH") == 1


def test_unknown_and_hidden_matches_are_404(tb):
    for match_id in ("nope", "x" * 300):
        r = tb.get("/matches/{matchId}", matchId=match_id)
        assert r.status_code == 404 and error_of(r) == "error_match_not_found"
        r = tb.get("/matches/{matchId}/players", matchId=match_id)
        assert r.status_code == 404
    # Another team's draft is not the caller's to read (detail.mdx).
    for path in ("/matches/{matchId}", "/matches/{matchId}/players"):
        r = tb.get(path, matchId="tbm_foxes_draft")
        assert (r.status_code, error_of(r)) == (403, "error_not_match_participant")


def test_team_profile_by_id_or_slug(tb):
    by_id = tb.get("/teams/{identifier}", identifier="t_owls").json()["team"]
    by_slug = tb.get("/teams/{identifier}", identifier="night-owls").json()["team"]
    assert by_id == by_slug
    assert (
        by_id["isMember"] is True and by_id["memberCount"] == 6 and by_id["gameId"] == "gm_skyline"
    )
    assert (
        tb.get("/teams/{identifier}", identifier="crimson-vipers").json()["team"]["isMember"]
        is False
    )
    r = tb.get("/teams/{identifier}", identifier="glacier-foxes")  # private, not a member
    assert r.status_code == 403
    r = tb.get("/teams/{identifier}", identifier="nope")
    assert r.status_code == 404 and error_of(r) == "error_team_not_found"


def test_team_members_captains_first_with_membership_ids(tb):
    body = tb.get("/teams/{identifier}/members", identifier="night-owls").json()
    roles = [m["role"] for m in body["members"]]
    assert roles == ["CAPTAIN", "CO_CAPTAIN", "MEMBER", "MEMBER", "MEMBER", "MEMBER"]
    assert body["count"] == 6
    first = body["members"][0]
    assert first["user"]["id"] == "u_you" and first["id"] != first["user"]["id"]
    # A team that is not public shows its roster to its members only.
    assert tb.get("/teams/{identifier}/members", identifier="owl-academy").status_code == 403
    assert tb.get("/teams/{identifier}", identifier="owl-academy").status_code == 200


def test_user_teams(tb):
    mine = tb.get("/users/{identifier}/teams", identifier="you").json()
    assert {t["id"] for t in mine["teams"]} == {
        "t_owls",
        "t_tigers",
        "t_wolves",
        "t_anchors",
        "t_drift",
    }
    assert mine["count"] == 5
    roles = {t["id"]: t["role"] for t in mine["teams"]}
    assert roles["t_owls"] == "CAPTAIN" and roles["t_wolves"] == "MEMBER"
    assert {t["id"]: t["organization"] for t in mine["teams"]}["t_wolves"] is None
    # Someone else's list only shows teams of organizations with a public profile.
    ada = tb.get("/users/{identifier}/teams", identifier="u_ada").json()["teams"]
    assert {t["id"] for t in ada} == {"t_owls"}
    r = tb.get("/users/{identifier}/teams", identifier="quinn")
    assert r.status_code == 403
    r = tb.get("/users/{identifier}/teams", identifier="nobody")
    assert r.status_code == 404 and error_of(r) == "error_user_not_found"


def test_other_paths_and_methods_answer_in_the_envelope(shared):
    headers = {"Authorization": f"Bearer {YOU}"}
    r = httpx.get(shared.url + "/api/v1/nope", headers=headers)
    assert r.status_code == 404 and r.json()["error"] == "error_invalid_request"
    r = httpx.post(shared.url + "/api/v1/games", headers=headers)
    assert r.status_code == 405 and r.headers["allow"] == "GET"
    assert set(r.json()) == {"error", "details"}
    for path in ("/api/v1/games/", "/api/v1"):
        r = httpx.get(shared.url + path, headers=headers)
        assert r.status_code == 404 and r.json()["error"] == "error_invalid_request"
    # The emulator's other routes keep their own behaviour.
    assert httpx.get(shared.url + "/_emulator/health").json()["ok"] is True
