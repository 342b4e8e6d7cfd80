"""Match acceptance requests over HTTP: each rule answers with its error code; the creator's side
(approve, decline), challenges, create/publish/cancel, the scheduled-start cancellation, and the
events every change puts on the stream."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from teambattles_helpers import (
    ADA,
    FOX,
    OWLS_ACTIVE,
    TB,
    TIDE,
    VIPER,
    VIPERS_HP,
    advance,
    error_of,
    events,
    owls_accept,
    schema_errors,
)

from lobby.emulator.runtime import EmulatorConfig
from lobby.emulator.server import EmulatorThread

ACADEMY = {"teamId": "t_academy", "activeRoster": ["u_sam", "u_tom", "u_uma", "u_vi"]}


@pytest.fixture
def tb(emulator) -> Iterator[TB]:
    client = TB(emulator.url)
    yield client
    client.close()


@pytest.fixture(scope="module")
def refused() -> Iterator[TB]:
    """One emulator for the tests whose requests are all refused, so they change nothing."""
    with EmulatorThread(EmulatorConfig()) as emu:
        client = TB(emu.url)
        yield client
        client.close()


def accepted(r) -> str:
    assert r.status_code == 200, r.text
    assert r.json()["success"] is True
    return r.json()["acceptanceId"]


# --- each rule --------------------------------------------------------------------------------

RULES: list[tuple[str, str, dict[str, Any], int, str]] = [
    (
        "not a leader (plain member)",
        VIPERS_HP,
        {"teamId": "t_wolves", "activeRoster": ["u_rex", "u_sam", "u_tom", "u_uma"]},
        403,
        "error_not_team_leader",
    ),
    (
        "roster too small",
        VIPERS_HP,
        owls_accept(activeRoster=OWLS_ACTIVE[:3]),
        400,
        "error_roster_too_small",
    ),
    (
        "roster too large",
        VIPERS_HP,
        owls_accept(activeRoster=[*OWLS_ACTIVE, "u_dee"]),
        400,
        "error_validation_failed",
    ),
    (
        "same player twice",
        VIPERS_HP,
        owls_accept(activeRoster=["u_you", "u_ada", "u_bo", "u_bo"]),
        400,
        "error_validation_failed",
    ),
    (
        "active player not a member",
        VIPERS_HP,
        owls_accept(activeRoster=["u_you", "u_ada", "u_bo", "u_rex"]),
        400,
        "error_not_team_member",
    ),
    (
        "bench player not a member",
        VIPERS_HP,
        owls_accept(benchRoster=[{"id": "u_rex", "priority": 1}]),
        400,
        "error_not_team_member",
    ),
    (
        "bench player also active",
        VIPERS_HP,
        owls_accept(benchRoster=[{"id": "u_ada", "priority": 1}]),
        400,
        "error_validation_failed",
    ),
    (
        "negative bench priority",
        VIPERS_HP,
        owls_accept(benchRoster=[{"id": "u_dee", "priority": -1}]),
        400,
        "error_validation_failed",
    ),
    (
        "team plays another game",
        "tbm_tide_siege",
        {"teamId": "t_owls", "activeRoster": ["u_you", "u_ada"]},
        400,
        "error_team_game_mismatch",
    ),
    ("own match", "tbm_owls_open", owls_accept(), 400, "error_match_cannot_accept_own"),
    (
        "banned team",
        VIPERS_HP,
        {"teamId": "t_anchors", "activeRoster": OWLS_ACTIVE},
        403,
        "error_competitive_banned",
    ),
    ("match not published", "tbm_foxes_draft", owls_accept(), 409, "error_match_not_published"),
    ("match already accepted", "tbm_owls_vs_foxes", ACADEMY, 409, "error_match_already_accepted"),
    (
        "a challenge is not open",
        "tbm_vipers_challenge_owls",
        ACADEMY,
        409,
        "error_challenge_already_pending",
    ),
    (
        "unreleased map",
        VIPERS_HP,
        owls_accept(mapPreferenceMode="PREFERRED", selectedMaps=["orbital"]),
        400,
        "error_map_not_released",
    ),
    (
        "map outside the pool",
        VIPERS_HP,
        owls_accept(mapPreferenceMode="VETO", selectedMaps=["canal"]),
        400,
        "error_invalid_map_selection",
    ),
    (
        "unknown map",
        VIPERS_HP,
        owls_accept(mapPreferenceMode="VETO", selectedMaps=["atlantis"]),
        400,
        "error_invalid_map_selection",
    ),
    (
        "veto of the whole pool",
        VIPERS_HP,
        owls_accept(mapPreferenceMode="VETO", selectedMaps=["harbor", "foundry", "rooftops"]),
        400,
        "error_invalid_map_selection",
    ),
    (
        "maps without a mode",
        VIPERS_HP,
        owls_accept(selectedMaps=["harbor"]),
        400,
        "error_validation_failed",
    ),
    (
        "mode without a pool",
        "tbm_foxes_ffa",
        owls_accept(mapPreferenceMode="PREFERRED", selectedMaps=["harbor"]),
        400,
        "error_map_selection_not_supported",
    ),
    ("message too long", VIPERS_HP, owls_accept(message="x" * 501), 400, "error_validation_failed"),
    (
        "disputed rule of a wrong type",
        VIPERS_HP,
        owls_accept(disputedRules={"x": [1, 2]}),
        400,
        "error_validation_failed",
    ),
    (
        "too many disputed rules",
        VIPERS_HP,
        owls_accept(disputedRules={f"r{i}": 1 for i in range(11)}),
        400,
        "error_validation_failed",
    ),
    ("player on both sides", "tbm_wolves_open", ACADEMY, 400, "error_validation_failed"),
    ("unknown match", "tbm_nope", owls_accept(), 404, "error_match_not_found"),
    ("unknown team", VIPERS_HP, owls_accept(teamId="t_nope"), 404, "error_team_not_found"),
]


@pytest.mark.parametrize(
    ("name", "match_id", "body", "status", "code"), RULES, ids=[r[0] for r in RULES]
)
def test_each_rule_answers_with_its_code(refused, name, match_id, body, status, code):
    r = refused.accept(match_id, body, valid=name != "disputed rule of a wrong type")
    assert (r.status_code, error_of(r)) == (status, code), r.text
    assert r.json()["details"].endswith(".")


FULL = owls_accept(
    benchRoster=[{"id": "u_dee", "priority": 1}, {"id": "u_eli", "priority": 2.5}],
    mapPreferenceMode="VETO",
    selectedMaps=["harbor"],
    message="GL HF",
    disputedRules={"overtime": True, "rounds": 13, "banned": ["smoke"], "note": "x"},
)


@pytest.mark.parametrize(
    ("match_id", "body"),
    [
        (VIPERS_HP, FULL),
        (VIPERS_HP, ACADEMY),  # the organization owner leads a team they are not on
        (
            "tbm_tide_siege",
            {"teamId": "t_tigers", "activeRoster": ["u_you", "u_kai"]},
        ),  # co-captain
        (VIPERS_HP, owls_accept(teamId="night-owls")),  # a slug names the team too
    ],
    ids=["everything", "org-owner", "co-captain", "slug"],
)
def test_leaders_with_a_fitting_roster_are_accepted(tb, match_id, body):
    accepted(tb.accept(match_id, body))


def test_one_pending_request_per_team_per_match(tb):
    accepted(tb.accept(VIPERS_HP, owls_accept()))
    r = tb.accept(VIPERS_HP, owls_accept(message="again"))
    assert (r.status_code, error_of(r)) == (409, "error_acceptance_already_pending")
    accepted(tb.accept(VIPERS_HP, ACADEMY))  # another team may still ask
    accepted(tb.accept("tbm_vipers_snd", owls_accept()))  # and the same team elsewhere


# --- the creator's answer ---------------------------------------------------------------------


def test_approve_accepts_the_match_and_supersedes_the_rest(tb, emulator):
    owls = accepted(tb.accept(VIPERS_HP, owls_accept(benchRoster=[{"id": "u_dee", "priority": 1}])))
    academy = accepted(tb.accept(VIPERS_HP, ACADEMY))
    viper = tb.as_(VIPER)
    r = viper.post(
        "/matches/{matchId}/acceptances/{acceptanceId}/approve",
        {"responseMessage": "See you", "availableMaps": ["harbor", "rooftops"]},
        matchId=VIPERS_HP,
        acceptanceId=owls,
    )
    assert r.status_code == 200 and r.json()["success"] is True
    match = tb.match(VIPERS_HP)
    assert match["status"] == "ACCEPTED" and match["acceptedTeam"]["id"] == "t_owls"
    assert match["selectedMaps"] == ["harbor", "rooftops"]
    players = tb.get("/matches/{matchId}/players", matchId=VIPERS_HP).json()["players"]
    owls_rows = [(p["userId"], p["rosterType"]) for p in players if p["teamId"] == "t_owls"]
    assert owls_rows == [(u, "ACTIVE") for u in OWLS_ACTIVE] + [("u_dee", "BENCH")]
    for verb in ("approve", "decline"):
        r = viper.post(
            "/matches/{matchId}/acceptances/{acceptanceId}/" + verb,
            {},
            matchId=VIPERS_HP,
            acceptanceId=academy,
        )
        assert (r.status_code, error_of(r)) == (409, "error_match_already_accepted")
    assert tb.accept(VIPERS_HP, owls_accept()).status_code == 409
    assert VIPERS_HP in {m["id"] for m in tb.get("/user/ongoing-matches").json()["matches"]}
    kinds = [e for e, _ in events(emulator.url, until="emulator.acceptance.superseded")]
    assert kinds[-3:] == ["match.accepted", "roster.updated", "emulator.acceptance.superseded"]


def test_only_the_creators_leaders_answer(tb):
    owls = accepted(tb.accept(VIPERS_HP, owls_accept()))
    for key in (None, FOX):  # the requester, another team's captain
        client = tb if key is None else tb.as_(key)
        r = client.post(
            "/matches/{matchId}/acceptances/{acceptanceId}/approve",
            {},
            matchId=VIPERS_HP,
            acceptanceId=owls,
        )
        assert (r.status_code, error_of(r)) == (403, "error_not_team_leader")


def test_approve_checks_the_maps_it_names(tb):
    owls = accepted(tb.accept(VIPERS_HP, owls_accept()))
    r = tb.as_(VIPER).post(
        "/matches/{matchId}/acceptances/{acceptanceId}/approve",
        {"availableMaps": ["orbital"]},
        matchId=VIPERS_HP,
        acceptanceId=owls,
    )
    assert (r.status_code, error_of(r)) == (400, "error_map_not_released")
    assert tb.match(VIPERS_HP)["status"] == "PENDING"


def test_decline_closes_one_request(tb, emulator):
    owls = accepted(tb.accept(VIPERS_HP, owls_accept()))
    viper = tb.as_(VIPER)
    r = viper.post(
        "/matches/{matchId}/acceptances/{acceptanceId}/decline",
        {"responseMessage": "Not today"},
        matchId=VIPERS_HP,
        acceptanceId=owls,
    )
    assert r.status_code == 200
    assert tb.match(VIPERS_HP)["status"] == "PENDING"
    r = viper.post(
        "/matches/{matchId}/acceptances/{acceptanceId}/approve",
        {},
        matchId=VIPERS_HP,
        acceptanceId=owls,
    )
    assert (r.status_code, error_of(r)) == (409, "error_acceptance_not_pending")
    declined = [p for e, p in events(emulator.url, until="emulator.acceptance.declined")][-1]
    assert declined["data"]["acceptance"]["status"] == "DECLINED"
    assert declined["data"]["acceptance"]["responseMessage"] == "Not today"
    accepted(tb.accept(VIPERS_HP, owls_accept()))  # the team may ask again


def test_unknown_requests_are_404(refused):
    tb = refused
    r = tb.as_(VIPER).post(
        "/matches/{matchId}/acceptances/{acceptanceId}/approve",
        {},
        matchId=VIPERS_HP,
        acceptanceId="acc_nope",
    )
    assert (r.status_code, error_of(r)) == (404, "error_acceptance_not_found")
    r = tb.as_(VIPER).post(
        "/matches/{matchId}/acceptances/{acceptanceId}/decline",
        {},
        matchId="tbm_nope",
        acceptanceId="acc_nope",
    )
    assert (r.status_code, error_of(r)) == (404, "error_match_not_found")


# --- challenges -------------------------------------------------------------------------------


def test_accepting_a_challenge(tb, emulator):
    challenge = "tbm_vipers_challenge_owls"
    r = tb.as_(ADA).post(
        "/matches/{matchId}/challenges/accept", {"activeRoster": OWLS_ACTIVE}, matchId=challenge
    )
    assert (r.status_code, error_of(r)) == (403, "error_only_captains_can_respond_challenge")
    r = tb.post(
        "/matches/{matchId}/challenges/accept", {"activeRoster": OWLS_ACTIVE[:2]}, matchId=challenge
    )
    assert (r.status_code, error_of(r)) == (400, "error_roster_too_small")
    r = tb.post(
        "/matches/{matchId}/challenges/accept",
        {"activeRoster": OWLS_ACTIVE, "benchRoster": [{"id": "u_dee", "priority": 1}]},
        matchId=challenge,
    )
    assert r.status_code == 200
    match = tb.match(challenge)
    assert match["status"] == "ACCEPTED" and match["acceptedTeam"]["id"] == "t_owls"
    r = tb.post(
        "/matches/{matchId}/challenges/accept", {"activeRoster": OWLS_ACTIVE}, matchId=challenge
    )
    assert (r.status_code, error_of(r)) == (409, "error_challenge_not_pending")
    [(kind, payload)] = [
        (e, p) for e, p in events(emulator.url, until="emulator.challenge.accepted")
    ][-1:]
    assert payload["data"]["teamId"] == "t_owls"


def test_refusing_a_challenge(tb):
    challenge = "tbm_tide_challenge_tigers"
    r = tb.post("/matches/{matchId}/challenges/refuse", {"reason": "x" * 501}, matchId=challenge)
    assert r.status_code == 400
    r = tb.post(
        "/matches/{matchId}/challenges/refuse", {"reason": "Busy that night"}, matchId=challenge
    )
    assert r.status_code == 200
    assert tb.match(challenge)["status"] == "CANCELLED"
    r = tb.post("/matches/{matchId}/challenges/refuse", {}, matchId=VIPERS_HP)
    assert (r.status_code, error_of(r)) == (400, "error_match_not_challenge")


# --- creating, publishing, cancelling ---------------------------------------------------------


def new_match(**extra: Any) -> dict[str, Any]:
    body = {
        "teamId": "t_owls",
        "gameId": "gm_skyline",
        "gameModeId": "control",
        "matchType": "XP_ONLY",
        "mapSelectionType": "FLEX",
        "mapPreferenceMode": "PREFERRED",
        "teamSize": 4,
        "bestOf": 3,
        "activeRoster": OWLS_ACTIVE,
        "benchRoster": [{"id": "u_dee", "priority": 1}],
        "selectedMaps": ["foundry", "canal"],
        "scheduledAt": (time.time() + 3 * 86400) * 1000,
    }
    body.update(extra)
    return body


def test_create_publish_cancel(tb, emulator):
    r = tb.post("/matches/create", new_match())
    assert r.status_code == 200
    match_id = r.json()["matchId"]
    assert tb.match(match_id)["publishStatus"] == "DRAFT"
    # A draft is its creator team's captains' to read: another team is refused.
    r = tb.as_(VIPER).get("/matches/{matchId}", matchId=match_id)
    assert (r.status_code, error_of(r)) == (403, "error_not_match_participant")
    r = tb.as_(VIPER).post("/matches/{matchId}/publish", matchId=match_id)
    assert r.status_code == 404
    assert tb.post("/matches/{matchId}/publish", matchId=match_id).status_code == 200
    assert tb.as_(VIPER).match(match_id)["publishStatus"] == "PUBLISHED"
    r = tb.post("/matches/{matchId}/publish", matchId=match_id)
    assert (r.status_code, error_of(r)) == (400, "error_match_already_published")
    accepted(
        tb.as_(VIPER).accept(
            match_id,
            {"teamId": "t_vipers", "activeRoster": ["bot_viper", "u_vp1", "u_vp2", "u_vp3"]},
        )
    )
    r = tb.as_(ADA).post("/matches/{matchId}/cancel", {}, matchId=match_id)
    assert (r.status_code, error_of(r)) == (403, "error_not_team_leader")
    r = tb.post("/matches/{matchId}/cancel", {"reason": "Venue closed"}, matchId=match_id)
    assert r.status_code == 200 and r.json()["matchId"] == match_id
    assert tb.match(match_id)["status"] == "CANCELLED"
    r = tb.post("/matches/{matchId}/cancel", {}, matchId=match_id)
    assert (r.status_code, error_of(r)) == (409, "error_match_already_started")
    kinds = [e for e, p in events(emulator.url) if p["data"]["match"]["id"] == match_id]
    assert kinds == [
        "match.created",
        "match.published",
        "emulator.acceptance.created",
        "match.cancelled",
        "emulator.acceptance.cancelled",
    ]


@pytest.mark.parametrize(
    ("extra", "status", "code"),
    [
        (
            {"teamId": "t_wolves", "activeRoster": ["u_rex", "u_you", "u_sam", "u_tom"]},
            403,
            "error_not_team_leader",
        ),
        ({"gameId": "gm_irontide"}, 400, "error_team_game_mismatch"),
        ({"gameModeId": "racing"}, 400, "error_invalid_game_mode"),
        ({"activeRoster": OWLS_ACTIVE[:2]}, 400, "error_roster_too_small"),
        ({"selectedMaps": ["citadel"]}, 400, "error_map_not_released"),
        ({"bestOf": 2}, 400, "error_invalid_best_of"),
        ({"teamSize": 0}, 400, "error_validation_failed"),
        ({"scheduledAt": 1000}, 400, "error_validation_failed"),
        ({"isChallenge": True}, 400, "error_validation_failed"),
        ({"isChallenge": True, "challengedTeamId": "t_tide"}, 400, "error_team_game_mismatch"),
        ({"teamId": "t_nope"}, 404, "error_team_not_found"),
        (
            {"teamId": "t_anchors", "activeRoster": OWLS_ACTIVE, "benchRoster": []},
            403,
            "error_competitive_banned",
        ),
    ],
)
def test_create_match_rules(refused, extra, status, code):
    r = refused.post("/matches/create", new_match(**extra))
    assert (r.status_code, error_of(r)) == (status, code), r.text


def test_created_challenge_is_answered_by_the_challenged_team(tb):
    r = tb.post(
        "/matches/create",
        new_match(isChallenge=True, challengedTeamId="t_vipers", publishStatus="PUBLISHED"),
    )
    match_id = r.json()["matchId"]
    assert tb.match(match_id)["challengedTeam"]["id"] == "t_vipers"
    assert match_id not in {
        m["id"] for m in tb.post("/matches/discover", {"limit": 100}).json()["data"]
    }
    r = tb.as_(VIPER).post(
        "/matches/{matchId}/challenges/accept",
        {"activeRoster": ["bot_viper", "u_vp1", "u_vp2", "u_vp3"]},
        matchId=match_id,
    )
    assert r.status_code == 200


# --- time ---------------------------------------------------------------------------------------


def test_an_open_match_is_cancelled_when_its_start_passes(tb, emulator):
    r = tb.as_(TIDE).post(
        "/matches/create",
        {
            "teamId": "t_tide",
            "gameId": "iron-tide",
            "gameModeId": "siege",
            "matchType": "XP_ONLY",
            "mapSelectionType": "FLEX",
            "mapPreferenceMode": "PREFERRED",
            "teamSize": 2,
            "bestOf": 1,
            "activeRoster": ["bot_tide", "u_td1"],
            "publishStatus": "PUBLISHED",
            "scheduledAt": (time.time() + 120) * 1000,
        },
    )
    match_id = r.json()["matchId"]
    tigers = accepted(
        tb.accept(match_id, {"teamId": "t_tigers", "activeRoster": ["u_you", "u_kai"]})
    )
    advance(emulator.url, 180)
    match = tb.match(match_id)
    assert match["status"] == "CANCELLED"
    r = tb.as_(TIDE).post(
        "/matches/{matchId}/acceptances/{acceptanceId}/approve",
        {},
        matchId=match_id,
        acceptanceId=tigers,
    )
    assert (r.status_code, error_of(r)) == (409, "error_acceptance_not_pending")
    mine = [(e, p) for e, p in events(emulator.url) if p["data"]["match"]["id"] == match_id]
    assert [e for e, _ in mine][-2:] == ["match.cancelled", "emulator.acceptance.cancelled"]
    assert mine[-2][1]["data"]["reason"]
    assert mine[-1][1]["data"]["acceptance"]["id"] == tigers
    # Every seeded open match that starts within the hour is gone from discovery too.
    advance(emulator.url, 3600)
    left = tb.post("/matches/discover", {"limit": 100}).json()["data"]
    assert VIPERS_HP not in {m["id"] for m in left}
    assert tb.match(VIPERS_HP)["status"] == "CANCELLED"


def test_an_arranged_match_starts_at_its_time(tb, emulator):
    advance(emulator.url, 5 * 3600)
    match = tb.match("tbm_owls_vs_foxes")
    assert match["status"] == "IN_PROGRESS" and match["startedAt"]
    assert "match.started" in [e for e, _ in events(emulator.url)]


# --- events -----------------------------------------------------------------------------------


def test_events_are_shaped_like_webhooks(tb, emulator):
    seeded = [e for e, _ in events(emulator.url)]
    assert seeded and set(seeded) <= {"match.created", "match.published"}  # the scenario's matches
    start = emulator.runtime.events.last_id()
    owls = accepted(tb.accept(VIPERS_HP, owls_accept()))
    tb.as_(VIPER).post(
        "/matches/{matchId}/acceptances/{acceptanceId}/approve",
        {},
        matchId=VIPERS_HP,
        acceptanceId=owls,
    )
    got = list(events(emulator.url, after=start, until="roster.updated"))
    assert [e for e, _ in got] == [
        "emulator.acceptance.created",
        "match.accepted",
        "roster.updated",
    ]
    ids = set()
    for kind, payload in got:
        assert {"id", "event", "created_at", "data"} <= set(payload) and payload["event"] == kind
        ids.add(payload["id"])
        problems = schema_errors("components/schemas/ApiMatchDetail", payload["data"]["match"])
        assert not problems, problems
    assert len(ids) == 3
    accepted_event = got[1][1]["data"]
    assert accepted_event["match"]["status"] == "ACCEPTED"
    assert accepted_event["acceptanceId"] == owls
    assert accepted_event["acceptance"]["status"] == "APPROVED"
    players = got[2][1]["data"]["players"]
    assert not schema_errors("components/schemas/ApiMatchPlayer", players[0])
    # A refused request changes nothing and says nothing.
    before = emulator.runtime.events.last_id()
    assert tb.accept(VIPERS_HP, owls_accept()).status_code == 409
    assert emulator.runtime.events.last_id() == before
