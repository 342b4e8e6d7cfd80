"""The official teambattles-sdk (Kiota) works against the emulator unchanged: only its base URL
points at the emulator. The captain's whole flow runs through it, as the published service
would take it (reads within the access rules, an Idempotency-Key on a write)."""

from __future__ import annotations

import pytest
from teambattles_helpers import OWLS_ACTIVE, VIPER, VIPERS_HP, YOU, YOU_FREE
from teambattles_sdk import create_teambattles_client
from teambattles_sdk.generated.models.accept_match_request_body import AcceptMatchRequestBody
from teambattles_sdk.generated.models.accept_match_request_body_bench_roster import (
    AcceptMatchRequestBody_benchRoster,
)
from teambattles_sdk.generated.models.accept_match_request_body_map_preference_mode import (
    AcceptMatchRequestBody_mapPreferenceMode,
)
from teambattles_sdk.generated.models.error import Error
from teambattles_sdk.generated.models.match_discover_body import MatchDiscoverBody

# The generated SDK warns about its own use of deprecated Kiota classes; not ours to fix.
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


async def test_sdk_lists_games_discovers_and_accepts(emulator):
    client = create_teambattles_client(YOU, base_url=emulator.url + "/api/v1")

    catalog = await client.games.get()
    sky = next(g for g in catalog.games if g.id == "skyline-strike")
    assert sky.default_team_size == 4
    assert {m.id: m.is_released for m in sky.maps}["orbital"] is False

    first = await client.matches.discover.post(MatchDiscoverBody(limit=3))
    assert len(first.data) == 3 and first.has_more is True
    ids = [m.id for m in first.data]
    while first.has_more:
        cursor = first.next_cursor.string
        first = await client.matches.discover.post(
            MatchDiscoverBody(limit=3, cursor=_cursor(cursor))
        )
        ids += [m.id for m in first.data]
    assert VIPERS_HP in ids and len(ids) == len(set(ids))

    body = AcceptMatchRequestBody(
        team_id="t_owls",
        active_roster=list(OWLS_ACTIVE),
        bench_roster=[AcceptMatchRequestBody_benchRoster(id="u_dee", priority=1)],
        map_preference_mode=AcceptMatchRequestBody_mapPreferenceMode.VETO,
        selected_maps=["harbor"],
        message="GL HF",
    )
    answer = await client.matches.by_match_id(VIPERS_HP).accept.post(body)
    assert answer.success is True and answer.acceptance_id

    with pytest.raises(Error) as refused:
        await client.matches.by_match_id(VIPERS_HP).accept.post(body)
    assert refused.value.response_status_code == 409
    assert refused.value.error == "error_acceptance_already_pending"
    assert refused.value.details


async def test_sdk_sees_auth_errors_as_error_models(emulator):
    client = create_teambattles_client(YOU_FREE, base_url=emulator.url + "/api/v1")
    body = AcceptMatchRequestBody(team_id="t_owls", active_roster=list(OWLS_ACTIVE))
    with pytest.raises(Error) as refused:
        await client.matches.by_match_id(VIPERS_HP).accept.post(body)
    assert (refused.value.response_status_code, refused.value.error) == (
        403,
        "error_api_feature_required",
    )


def _cursor(value: str):
    from teambattles_sdk.generated.models.match_discover_body_cursor import MatchDiscoverBody_cursor

    return MatchDiscoverBody_cursor(string=value)


def _with_idempotency_key(value: str):
    from kiota_abstractions.base_request_configuration import RequestConfiguration

    config = RequestConfiguration()
    config.headers.add("Idempotency-Key", value)
    return config


async def test_sdk_runs_the_captains_whole_flow(emulator):
    """Discover, accept with bench, maps, message and an Idempotency-Key, the creator approves,
    ACCEPTED; a challenge accepted and one refused; create, publish, cancel. Only the base URL
    differs from the published service; every call is the SDK's own."""
    from teambattles_sdk.generated.models.accept_challenge_request_body import (
        AcceptChallengeRequestBody,
    )
    from teambattles_sdk.generated.models.approve_acceptance_request_body import (
        ApproveAcceptanceRequestBody,
    )
    from teambattles_sdk.generated.models.cancel_match_request_body import CancelMatchRequestBody
    from teambattles_sdk.generated.models.create_match_request_body import CreateMatchRequestBody
    from teambattles_sdk.generated.models.create_match_request_body_map_preference_mode import (
        CreateMatchRequestBody_mapPreferenceMode,
    )
    from teambattles_sdk.generated.models.create_match_request_body_map_selection_type import (
        CreateMatchRequestBody_mapSelectionType,
    )
    from teambattles_sdk.generated.models.create_match_request_body_match_type import (
        CreateMatchRequestBody_matchType,
    )
    from teambattles_sdk.generated.models.matches_request_body import MatchesRequestBody
    from teambattles_sdk.generated.models.refuse_challenge_request_body import (
        RefuseChallengeRequestBody,
    )

    api = emulator.url + "/api/v1"
    you = create_teambattles_client(YOU, base_url=api)
    viper = create_teambattles_client(VIPER, base_url=api)

    # Discover an open match, and ask to play it: the same Idempotency-Key twice is one request.
    found = await you.matches.discover.post(MatchDiscoverBody(limit=50))
    assert VIPERS_HP in {m.id for m in found.data}
    body = AcceptMatchRequestBody(
        team_id="t_owls",
        active_roster=list(OWLS_ACTIVE),
        bench_roster=[AcceptMatchRequestBody_benchRoster(id="u_dee", priority=1)],
        map_preference_mode=AcceptMatchRequestBody_mapPreferenceMode.PREFERRED,
        selected_maps=["harbor"],
        message="GL HF",
    )
    sent = await you.matches.by_match_id(VIPERS_HP).accept.post(
        body, _with_idempotency_key("owls-hp-1")
    )
    again = await you.matches.by_match_id(VIPERS_HP).accept.post(
        body, _with_idempotency_key("owls-hp-1")
    )
    assert sent.success is True and again.acceptance_id == sent.acceptance_id
    [row] = emulator.runtime.store.query(
        "SELECT bench_roster, map_preference_mode, selected_maps, message FROM tb_acceptances"
        " WHERE id = ?",
        (sent.acceptance_id,),
    )
    assert tuple(row)[1:] == ("PREFERRED", '["harbor"]', "GL HF") and "u_dee" in row[0]

    # The creator approves: the match is ACCEPTED, and the Night Owls, now a side, may read it.
    approved = await viper.matches.by_match_id(VIPERS_HP).acceptances.by_acceptance_id(
        sent.acceptance_id
    ).approve.post(ApproveAcceptanceRequestBody(response_message="See you there"))
    assert approved.success is True
    match = (await you.matches.by_match_id(VIPERS_HP).get()).match
    assert match.status.value == "ACCEPTED" and match.accepted_team.id == "t_owls"

    # Challenges arrive on the team's own matches; one accepted, one refused.
    owls = await you.teams.by_identifier("t_owls").matches.post(MatchesRequestBody())
    assert "tbm_vipers_challenge_owls" in {m.id for m in owls.page}
    accepted = await you.matches.by_match_id("tbm_vipers_challenge_owls").challenges.accept.post(
        AcceptChallengeRequestBody(active_roster=list(OWLS_ACTIVE))
    )
    assert accepted.success is True
    match = (await you.matches.by_match_id("tbm_vipers_challenge_owls").get()).match
    assert match.accepted_team.id == "t_owls"
    tigers = await you.teams.by_identifier("t_tigers").matches.post(MatchesRequestBody())
    assert "tbm_tide_challenge_tigers" in {m.id for m in tigers.page}
    refused = await you.matches.by_match_id("tbm_tide_challenge_tigers").challenges.refuse.post(
        RefuseChallengeRequestBody(reason="Not this week")
    )
    assert refused.success is True
    [status] = emulator.runtime.store.query(
        "SELECT status FROM tb_matches WHERE id = ?", ("tbm_tide_challenge_tigers",)
    )
    assert status[0] == "CANCELLED"

    # Create a draft, publish it, cancel it.
    created = await you.matches.create.post(
        CreateMatchRequestBody(
            team_id="t_owls",
            game_id="gm_skyline",
            game_mode_id="control",
            match_type=CreateMatchRequestBody_matchType.XP_ONLY,
            map_selection_type=CreateMatchRequestBody_mapSelectionType.FLEX,
            map_preference_mode=CreateMatchRequestBody_mapPreferenceMode.PREFERRED,
            team_size=4,
            best_of=3,
            active_roster=list(OWLS_ACTIVE),
            selected_maps=["foundry", "canal"],
        )
    )
    match_id = created.match_id
    assert (await you.matches.by_match_id(match_id).get()).match.publish_status == "DRAFT"
    assert (await you.matches.by_match_id(match_id).publish.post()).success is True
    assert (await you.matches.by_match_id(match_id).get()).match.publish_status == "PUBLISHED"
    cancelled = await you.matches.by_match_id(match_id).cancel.post(
        CancelMatchRequestBody(reason="Plans changed")
    )
    assert cancelled.success is True and cancelled.match_id == match_id
    assert (await you.matches.by_match_id(match_id).get()).match.status.value == "CANCELLED"
