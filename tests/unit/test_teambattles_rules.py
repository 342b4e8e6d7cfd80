"""The TeamBattles acceptance rules, one by one, as pure functions."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lobby.core.answers import (
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
    TeamRole,
)
from lobby.teambattles.rules import (
    ACCEPTANCE_RULES,
    check_acceptance,
    check_challenge_refusal,
    check_challenge_response,
    check_decision,
    check_draft_shape,
    leads_team,
)
from lobby.teambattles.vocab import (
    DISPUTED_RULES_MAX,
    MESSAGE_MAX_LENGTH,
    SELECTED_MAPS_MAX,
    AcceptanceStatus,
    ErrorCode,
    is_permission_denied,
)

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)

GAME = GameFacts(
    id="gm_sky",
    maps={"harbor": True, "foundry": True, "rooftops": True, "orbital": False, "canal": True},
    mode_pools={"hardpoint": ("harbor", "foundry", "rooftops", "orbital")},
    mode_ids=frozenset({"hardpoint", "ffa"}),
)
MATCH = MatchFacts(
    id="m1",
    status=MatchStatus.PENDING,
    publish_status=PublishStatus.PUBLISHED,
    game_id="gm_sky",
    game_mode="hardpoint",
    team_size=3,
    creator_team_id="t_them",
    scheduled_at=NOW + timedelta(hours=1),
    player_ids=frozenset({"them1", "them2", "them3"}),
)
TEAM = TeamFacts(
    id="t_us",
    game_id="gm_sky",
    members={
        "cap": TeamRole.CAPTAIN,
        "co": TeamRole.CO_CAPTAIN,
        "m1": TeamRole.MEMBER,
        "m2": TeamRole.MEMBER,
        "m3": TeamRole.MEMBER,
    },
    organization_owner_id="boss",
    name="Us",
)
FACTS = AcceptanceFacts(owner_id="cap", match=MATCH, team=TEAM, game=GAME, now=NOW)
DRAFT = AcceptanceDraft.build("t_us", ["cap", "m1", "m2"], bench=[("m3", 1)])


def codes(draft: AcceptanceDraft = DRAFT, facts: AcceptanceFacts = FACTS) -> list[str]:
    return [v.code for v in check_acceptance(draft, facts)]


def first_code(draft: AcceptanceDraft = DRAFT, facts: AcceptanceFacts = FACTS) -> str | None:
    found = codes(draft, facts)
    return found[0] if found else None


def test_a_good_draft_breaks_nothing():
    assert check_acceptance(DRAFT, FACTS) == []
    full = AcceptanceDraft.build(
        "t_us",
        ["cap", "m1", "m2"],
        bench=[("m3", 2), ("co", 1)],
        map_mode="VETO",
        selected_maps=["harbor"],
        message="GL HF\nsee you",
        disputed_rules={"overtime": True, "rounds": 13, "banned": ["smoke", "flash"], "note": "x"},
    )
    assert check_acceptance(full, FACTS) == []


def test_violations_carry_code_details_and_field():
    [v] = check_acceptance(replace(DRAFT, active_roster=("cap", "m1")), FACTS)
    assert v.code == ErrorCode.ROSTER_TOO_SMALL == "error_roster_too_small"
    assert v.field == "activeRoster"
    assert "3" in v.details and v.details.endswith(".")


# --- who may act ------------------------------------------------------------------------------


@pytest.mark.parametrize("owner", ["cap", "co", "boss"])
def test_captain_co_captain_and_org_owner_lead(owner):
    assert leads_team(owner, TEAM)
    assert first_code(facts=replace(FACTS, owner_id=owner)) is None


@pytest.mark.parametrize("owner", ["m1", "stranger"])
def test_members_and_strangers_do_not_lead(owner):
    assert first_code(facts=replace(FACTS, owner_id=owner)) == ErrorCode.NOT_TEAM_LEADER


def test_no_org_means_no_org_owner():
    team = replace(TEAM, organization_owner_id=None)
    assert not leads_team("boss", team)


# --- the roster -------------------------------------------------------------------------------


def test_roster_too_small():
    assert first_code(replace(DRAFT, active_roster=("cap",))) == ErrorCode.ROSTER_TOO_SMALL


def test_roster_too_large_is_a_validation_failure():
    draft = replace(DRAFT, active_roster=("cap", "m1", "m2", "m3"), bench=())
    assert first_code(draft) == ErrorCode.VALIDATION_FAILED


def test_roster_ids_are_distinct():
    draft = replace(DRAFT, active_roster=("cap", "m1", "m1"))
    v = check_acceptance(draft, FACTS)[0]
    assert v.code == ErrorCode.VALIDATION_FAILED and "twice" in v.details


def test_active_players_are_team_members():
    draft = replace(DRAFT, active_roster=("cap", "m1", "outsider"))
    assert first_code(draft) == ErrorCode.NOT_TEAM_MEMBER


def test_bench_players_are_team_members():
    draft = replace(DRAFT, bench=(BenchEntry("outsider", 1),))
    v = check_acceptance(draft, FACTS)[0]
    assert (v.code, v.field) == (ErrorCode.NOT_TEAM_MEMBER, "benchRoster")


def test_bench_players_are_not_on_the_active_roster():
    draft = replace(DRAFT, bench=(BenchEntry("m1", 1),))
    assert first_code(draft) == ErrorCode.VALIDATION_FAILED


def test_bench_players_appear_once():
    draft = replace(DRAFT, bench=(BenchEntry("m3", 1), BenchEntry("m3", 2)))
    assert first_code(draft) == ErrorCode.VALIDATION_FAILED


@pytest.mark.parametrize("priority", [-1, float("nan"), float("inf"), True])
def test_bench_priorities_are_numbers_from_zero(priority):
    draft = replace(DRAFT, bench=(BenchEntry("m3", priority),))
    assert first_code(draft) == ErrorCode.VALIDATION_FAILED


def test_nobody_plays_for_both_sides():
    match = replace(MATCH, player_ids=frozenset({"m2"}))
    v = check_acceptance(DRAFT, replace(FACTS, match=match))[0]
    assert v.code == ErrorCode.VALIDATION_FAILED and "other side" in v.details


@given(
    active=st.lists(st.sampled_from(["cap", "co", "m1", "m2", "m3", "x"]), max_size=6),
    size=st.integers(min_value=1, max_value=5),
)
def test_roster_passes_exactly_when_size_distinct_members(active, size):
    facts = replace(FACTS, match=replace(MATCH, team_size=size))
    draft = replace(DRAFT, active_roster=tuple(active), bench=())
    ok = len(active) == size and len(set(active)) == size and "x" not in active
    assert (first_code(draft, facts) is None) == ok


# --- the team and the match -------------------------------------------------------------------


def test_team_plays_the_matchs_game():
    facts = replace(FACTS, team=replace(TEAM, game_id="gm_other"))
    assert first_code(facts=facts) == ErrorCode.TEAM_GAME_MISMATCH


def test_a_team_cannot_accept_its_own_match():
    facts = replace(FACTS, match=replace(MATCH, creator_team_id="t_us"))
    assert first_code(facts=facts) == ErrorCode.MATCH_CANNOT_ACCEPT_OWN


def test_banned_teams_cannot_accept():
    facts = replace(FACTS, team=replace(TEAM, competitive_banned=True))
    assert first_code(facts=facts) == ErrorCode.COMPETITIVE_BANNED


def test_match_must_be_published():
    facts = replace(FACTS, match=replace(MATCH, publish_status=PublishStatus.DRAFT))
    assert first_code(facts=facts) == ErrorCode.MATCH_NOT_PUBLISHED


def test_match_already_accepted():
    match = replace(MATCH, status=MatchStatus.ACCEPTED, accepted_team_id="t_x")
    assert first_code(facts=replace(FACTS, match=match)) == ErrorCode.MATCH_ALREADY_ACCEPTED


@pytest.mark.parametrize(
    "status", [MatchStatus.CANCELLED, MatchStatus.COMPLETED, MatchStatus.DISPUTED]
)
def test_match_must_be_pending(status):
    match = replace(MATCH, status=status)
    assert first_code(facts=replace(FACTS, match=match)) == ErrorCode.MATCH_ALREADY_STARTED


def test_started_match_takes_no_requests():
    facts = replace(FACTS, now=NOW + timedelta(hours=2))
    assert first_code(facts=facts) == ErrorCode.MATCH_ALREADY_STARTED


def test_a_challenge_takes_no_open_requests():
    facts = replace(FACTS, match=replace(MATCH, challenged_team_id="t_us"))
    assert first_code(facts=facts) == ErrorCode.CHALLENGE_ALREADY_PENDING


def test_one_pending_request_per_team():
    facts = replace(FACTS, pending_team_ids=frozenset({"t_us"}))
    assert first_code(facts=facts) == ErrorCode.ACCEPTANCE_ALREADY_PENDING
    other = replace(FACTS, pending_team_ids=frozenset({"t_other"}))
    assert first_code(facts=other) is None


# --- maps -------------------------------------------------------------------------------------


def maps(mode: str | None, *ids: str) -> AcceptanceDraft:
    return replace(DRAFT, map_mode=MapPreferenceMode(mode) if mode else None, selected_maps=ids)


def test_maps_need_a_preference_mode():
    v = check_acceptance(maps(None, "harbor"), FACTS)[0]
    assert (v.code, v.field) == (ErrorCode.VALIDATION_FAILED, "mapPreferenceMode")


def test_maps_come_from_the_modes_pool():
    assert first_code(maps("PREFERRED", "canal")) == ErrorCode.INVALID_MAP_SELECTION
    assert first_code(maps("PREFERRED", "nowhere")) == ErrorCode.INVALID_MAP_SELECTION


def test_maps_are_released():
    assert first_code(maps("PREFERRED", "orbital")) == ErrorCode.MAP_NOT_RELEASED


def test_a_mode_without_pool_takes_no_maps():
    facts = replace(FACTS, match=replace(MATCH, game_mode="ffa"))
    assert first_code(maps("PREFERRED", "harbor"), facts) == ErrorCode.MAP_SELECTION_NOT_SUPPORTED
    assert first_code(DRAFT, facts) is None


def test_a_veto_leaves_something_to_play():
    assert first_code(maps("VETO", "harbor", "foundry")) is None
    assert (
        first_code(maps("VETO", "harbor", "foundry", "rooftops")) == ErrorCode.INVALID_MAP_SELECTION
    )


def test_maps_appear_once_and_are_bounded():
    assert first_code(maps("PREFERRED", "harbor", "harbor")) == ErrorCode.VALIDATION_FAILED
    many = tuple(f"m{i}" for i in range(SELECTED_MAPS_MAX + 1))
    assert first_code(maps("PREFERRED", *many)) == ErrorCode.VALIDATION_FAILED


# --- message and disputed rules ---------------------------------------------------------------


def test_message_is_bounded_text():
    assert first_code(replace(DRAFT, message="x" * MESSAGE_MAX_LENGTH)) is None
    assert (
        first_code(replace(DRAFT, message="x" * (MESSAGE_MAX_LENGTH + 1)))
        == ErrorCode.VALIDATION_FAILED
    )
    assert first_code(replace(DRAFT, message=42)) == ErrorCode.VALIDATION_FAILED  # type: ignore[arg-type]
    assert first_code(replace(DRAFT, message="bell\x07")) == ErrorCode.VALIDATION_FAILED


@pytest.mark.parametrize(
    "rules",
    [
        {"": 1},
        {"x" * 65: 1},
        {"obj": {"nested": 1}},
        {"none": None},
        {"list": [1, 2]},
        {"long": "y" * 201},
        {"many": ["a"] * 11},
        {"nan": float("nan")},
        {f"r{i}": 1 for i in range(DISPUTED_RULES_MAX + 1)},
        ["not", "a", "mapping"],
    ],
)
def test_disputed_rules_are_bounded_and_typed(rules):
    draft = replace(DRAFT, disputed_rules=rules)
    v = check_acceptance(draft, FACTS)[0]
    assert (v.code, v.field) == (ErrorCode.VALIDATION_FAILED, "disputedRules")


def test_shape_rules_come_first_and_need_no_facts():
    draft = replace(DRAFT, message="x" * 1000, active_roster=("nobody",))
    assert [v.code for v in check_draft_shape(draft)] == [ErrorCode.VALIDATION_FAILED]
    assert codes(draft)[0] == ErrorCode.VALIDATION_FAILED
    assert ErrorCode.NOT_TEAM_MEMBER in codes(draft)


def test_rules_are_named_and_ordered():
    names = [name for name, _ in ACCEPTANCE_RULES]
    assert len(names) == len(set(names))
    assert names.index("message") < names.index("match_open") < names.index("active_roster")


# --- the creator's answer and challenges --------------------------------------------------------


CREATOR = replace(TEAM, id="t_them", members={"boss2": TeamRole.CAPTAIN, "them1": TeamRole.MEMBER})


def test_decision_needs_the_creator_teams_leader():
    assert check_decision("boss2", MATCH, CREATOR, AcceptanceStatus.PENDING) == []
    [v] = check_decision("them1", MATCH, CREATOR, AcceptanceStatus.PENDING)
    assert v.code == ErrorCode.NOT_TEAM_LEADER


@pytest.mark.parametrize(
    ("status", "match_status", "code"),
    [
        (AcceptanceStatus.SUPERSEDED, MatchStatus.ACCEPTED, ErrorCode.MATCH_ALREADY_ACCEPTED),
        (AcceptanceStatus.DECLINED, MatchStatus.PENDING, ErrorCode.ACCEPTANCE_NOT_PENDING),
        (AcceptanceStatus.CANCELLED, MatchStatus.CANCELLED, ErrorCode.ACCEPTANCE_NOT_PENDING),
        (AcceptanceStatus.PENDING, MatchStatus.CANCELLED, ErrorCode.MATCH_ALREADY_STARTED),
    ],
)
def test_decision_needs_a_pending_request_on_an_open_match(status, match_status, code):
    match = replace(MATCH, status=match_status)
    assert check_decision("boss2", match, CREATOR, status)[0].code == code


def test_decision_reply_is_bounded():
    [v] = check_decision("boss2", MATCH, CREATOR, AcceptanceStatus.PENDING, "x" * 501)
    assert (v.code, v.field) == (ErrorCode.VALIDATION_FAILED, "responseMessage")


def test_challenge_answers():
    challenge = replace(MATCH, challenged_team_id="t_us")
    roster = RosterDraft(("cap", "m1", "m2"))
    assert check_challenge_response("cap", roster, challenge, TEAM) == []
    assert check_challenge_refusal("co", challenge, TEAM) == []
    assert (
        check_challenge_refusal("m1", challenge, TEAM)[0].code
        == ErrorCode.ONLY_CAPTAINS_CAN_RESPOND_CHALLENGE
    )
    small = RosterDraft(("cap",))
    assert (
        check_challenge_response("cap", small, challenge, TEAM)[0].code
        == ErrorCode.ROSTER_TOO_SMALL
    )
    assert check_challenge_refusal("cap", MATCH, TEAM)[0].code == ErrorCode.MATCH_NOT_CHALLENGE
    done = replace(challenge, status=MatchStatus.CANCELLED)
    assert check_challenge_refusal("cap", done, TEAM)[0].code == ErrorCode.CHALLENGE_NOT_PENDING


def test_both_permission_denied_spellings_mean_the_same():
    assert is_permission_denied("API_KEY_PERMISSION_DENIED")
    assert is_permission_denied("error_api_key_permission_denied")
    assert not is_permission_denied("error_api_feature_required")
