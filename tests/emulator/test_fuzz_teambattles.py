"""The TeamBattles routes fuzzed from the whole published document (schemathesis), every route
the emulator serves, past the key check with a demo key and at it with bad and missing keys.
Each case must pass the contract's response checks and ours (see fuzz_teambattles_helpers);
findings are listed in the failure message, and the figures (cases, 5xx, schema failures,
undocumented statuses, codes outside ApiErrorCode) are printed (``-s``).

By default a small derandomized run. ``make fuzz`` runs it bigger and random:
LOBBY_FUZZ_TB_EXAMPLES cases per (route, generation mode) and LOBBY_FUZZ_SEED, which replays a
run. The campaign with FlexMatch's is tests/bench/test_bench_fuzz.py (``make bench``)."""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterator

import pytest
from fuzz_teambattles_helpers import (
    AUTHS,
    CHECKS,
    FUZZ_REASON,
    NOT_SERVED,
    Campaign,
    contract_schema,
    figures,
    fuzz_config,
    operations,
    our_checks,
    run_teambattles,
    served_ids,
)
from schemathesis.core.transport import Response

from lobby.emulator.server import EmulatorThread

#: Cases per (route, generation mode): with the Pro key, and then with the other auths.
EXAMPLES = int(os.environ.get("LOBBY_FUZZ_TB_EXAMPLES", "16"))
#: A seed makes the run random (and replayable); without one it is derandomized.
SEED = int(os.environ["LOBBY_FUZZ_SEED"]) if os.environ.get("LOBBY_FUZZ_SEED") else None
RANDOM = {"derandomize": SEED is None, "random_seed": SEED}
#: Both runs' figures, added up and printed at the end of the module.
TOTALS: Counter[str] = Counter()


@pytest.fixture(scope="module", autouse=True)
def _figures() -> Iterator[None]:
    yield
    if TOTALS:
        seed = "derandomized" if SEED is None else f"seed {SEED}"
        print(
            f"\nTeamBattles fuzz, {EXAMPLES} per route and mode, {seed}, rate limits raised"
            f" ({FUZZ_REASON}): {dict(TOTALS)}"
        )


@pytest.fixture(scope="module")
def emulator_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with EmulatorThread(fuzz_config(tmp_path_factory.mktemp("fuzz-tb"))) as emu:
        yield emu.url


def _assert_clean(campaign: Campaign, at_least: int) -> None:
    found = figures(campaign)
    TOTALS.update(found)
    assert not campaign.findings, "\n" + campaign.report()
    assert found == {
        "cases": found["cases"],
        "5xx": 0,
        "schema failures": 0,
        "undocumented statuses": 0,
        "codes outside ApiErrorCode": 0,
        "other findings": 0,
    }
    assert campaign.total >= at_least, campaign.report()


def test_every_served_route_of_the_contract_is_fuzzed():
    served = {op.definition.raw["operationId"] for op in operations()}
    every = {r.ok().definition.raw["operationId"] for r in contract_schema().get_all_operations()}
    assert served == served_ids() and served <= every
    assert len(served) == 18 and not served & NOT_SERVED


def test_fuzz_past_the_key_check(emulator_url):
    campaign = run_teambattles(
        emulator_url, examples=EXAMPLES, auths={"pro": AUTHS["pro"]}, **RANDOM
    )
    _assert_clean(campaign, at_least=18 * 3)
    # The demo key gets past the key check, and the seeded ids past "not found".
    seen = {status for (_, status) in campaign.statuses}
    assert 401 not in seen
    assert {200, 400, 404} <= seen


def test_fuzz_with_bad_missing_and_limited_keys(emulator_url):
    others = {name: header for name, header in AUTHS.items() if name != "pro"}
    campaign = run_teambattles(emulator_url, examples=EXAMPLES, auths=others, **RANDOM)
    _assert_clean(campaign, at_least=18 * 3)
    seen = {status for (_, status) in campaign.statuses}
    assert {401, 403} <= seen


# --- the oracle itself can fail -------------------------------------------------------------------


def _response(status: int, body: bytes, content_type: str = "application/json") -> Response:
    headers = {
        "content-type": [content_type],
        "x-ratelimit-limit": ["10"],
        "x-ratelimit-remaining": ["9"],
        "x-ratelimit-reset": ["1"],
    }
    return Response(
        status_code=status,
        headers=headers,
        content=body,
        request=_request(),
        elapsed=0.01,
        verify=False,
    )


def _request():
    import requests

    return requests.Request("GET", "http://127.0.0.1/api/v1/games").prepare()


def _games_case():
    op = contract_schema()["/games"]["GET"]
    return op.Case()


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        (400, b'{"message": "no code"}', "error_envelope"),
        (404, b'{"error": "error_match_not_found", "extra": 1}', "error_envelope"),
        (403, b'{"error": "error_made_up"}', "error_code"),
        (404, b"<html>not found</html>", "error_envelope"),
    ],
)
def test_our_checks_flag_a_broken_error_answer(status, body, expected):
    assert expected in {check for check, _ in our_checks(_response(status, body))}


def test_our_checks_pass_a_proper_error_answer():
    assert list(our_checks(_response(404, b'{"error": "error_match_not_found", "details": "No."}'))) == []


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (500, b'{"error": "error_internal"}'),  # a server error, even in the envelope
        (418, b'{"error": "error_match_not_found"}'),  # a status the route does not list
        (200, b'{"games": "not a list"}'),  # a body against the listed schema
    ],
)
def test_contract_checks_flag_a_broken_answer(status, body):
    case = _games_case()
    with pytest.raises(BaseException) as caught:  # schemathesis raises a group of failures
        case.validate_response(_response(status, body), checks=CHECKS)
    assert not isinstance(caught.value, KeyboardInterrupt)



def test_figures_count_each_kind_of_problem():
    from fuzz_common import Campaign

    campaign = Campaign()
    campaign.cases["t"] = 7
    campaign.statuses[("t", 200)] = 4
    campaign.statuses[("t", 500)] = 2
    campaign.statuses[("t", 503)] = 1
    campaign.add("t", "Server error", 500, "x")
    campaign.add("t", "Response violates schema", 200, "x")
    campaign.add("t", "Response violates schema", 200, "x")
    campaign.add("t", "Undocumented status code", 418, "x")
    campaign.add("t", "error_code", 403, "x")
    assert figures(campaign) == {
        "cases": 7,
        "5xx": 3,
        "schema failures": 2,
        "undocumented statuses": 1,
        "codes outside ApiErrorCode": 1,
        "other findings": 1,
    }
