"""The official teambattles-sdk (Kiota) works against the emulator unchanged: only its base URL
points at the emulator."""

from __future__ import annotations

import pytest
from teambattles_helpers import OWLS_ACTIVE, VIPERS_HP, YOU, YOU_FREE
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
