"""Fault injection: every kind in each service's own shape, before or after the call runs,
decided by a seed, set by flag or at run time, never on /_emulator; and a short exactly-once
campaign through lobby's adapters at 30% faults."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

import cbor2
import httpx
import pytest
from reliability_helpers import (
    OWLS_ACTIVE,
    YOU,
    Campaign,
    clear_faults,
    scenario_with_matches,
    set_faults,
)

from lobby.core.errors import InvalidRequest, Throttled, Unavailable
from lobby.emulator.faults import FaultError, parse_flag, parse_settings
from lobby.emulator.runtime import EmulatorConfig
from lobby.emulator.server import EmulatorThread
from lobby.flexmatch.client import FlexMatchClient
from lobby.flexmatch.signing import CredentialSource
from lobby.net.retry import RetryPolicy
from lobby.teambattles.backend import TeamBattlesBackend
from lobby.teambattles.client import TeamBattlesClient
from lobby.teambattles.keys import check_key
from lobby.teambattles.requests import RequestStore
from lobby.core.answers import AcceptanceDraft

JSON_HEADERS = {"Content-Type": "application/x-amz-json-1.1"}
AUTH = {"Authorization": f"Bearer {YOU}"}
VIPERS_HP = "tbm_vipers_hp"
#: A guard against hangs only; nothing asserts on elapsed time.
HANG = 60


def gamelift_json(http: httpx.Client, url: str, operation: str, body: dict) -> httpx.Response:
    headers = {**JSON_HEADERS, "X-Amz-Target": f"GameLift.{operation}"}
    return http.post(url + "/", content=json.dumps(body), headers=headers)


def gamelift_cbor(http: httpx.Client, url: str, operation: str, body: dict) -> httpx.Response:
    headers = {"Content-Type": "application/cbor", "smithy-protocol": "rpc-v2-cbor"}
    return http.post(
        f"{url}/service/GameLift/operation/{operation}", content=cbor2.dumps(body), headers=headers
    )


def owls_accept_body() -> dict:
    return {"teamId": "t_owls", "activeRoster": list(OWLS_ACTIVE)}


@pytest.fixture
def http():
    with httpx.Client(timeout=HANG) as client:
        yield client


# --- settings -----------------------------------------------------------------------------------


def test_flag_and_body_parsing_refuse_bad_values_with_a_sentence():
    assert parse_flag("0.3") == (0.3, ("500", "503", "throttle", "slow", "drop"))
    assert parse_flag("0.25,500,drop") == (0.25, ("500", "drop"))
    for bad in ("", "x", "1.5", "-0.1", "0.3,boom", "nan"):
        with pytest.raises(FaultError):
            parse_flag(bad)
    assert parse_settings({"rate": 0.5, "kinds": ["slow"], "delaySeconds": 0.1}).delay_seconds == 0.1
    for bad in ([], {"rate": 2}, {"kinds": []}, {"kinds": ["boom"]}, {"surprise": 1}, {"seed": -1}):
        with pytest.raises(FaultError):
            parse_settings(bad)


def test_control_route_shows_sets_and_clears(emulator: EmulatorThread, http: httpx.Client):
    url = emulator.url + "/_emulator/faults"
    shown = http.get(url).json()
    assert shown["enabled"] is False and shown["rate"] == 0.0 and shown["total"] == 0

    answer = http.put(url, json={"rate": 0.4, "kinds": ["500", "drop"], "seed": 11})
    assert answer.status_code == 200, answer.text
    assert answer.json()["seedInUse"] == 11 and answer.json()["kinds"] == ["500", "drop"]
    answer = http.post(url, json={"rate": 0.2, "kinds": ["slow"], "delaySeconds": 0.05})
    assert answer.status_code == 200 and answer.json()["rate"] == 0.2
    assert isinstance(answer.json()["seedInUse"], int)  # picked, and shown so a run can be repeated

    for body in (b"{", b"[1]", b'{"rate": "lots"}', b'{"kinds": ["meteor"]}', b'{"rate": 0.1, "x": 1}'):
        bad = http.put(url, content=body, headers={"Content-Type": "application/json"})
        assert bad.status_code == 400, body
        assert bad.json()["error"] == "bad_request" and bad.json()["details"]

    cleared = http.delete(url)
    assert cleared.status_code == 200 and cleared.json()["enabled"] is False
    assert http.get(url).json()["rate"] == 0.0


def test_control_and_event_routes_are_never_hit(emulator: EmulatorThread, http: httpx.Client):
    set_faults(emulator.url, rate=1.0, kinds=["500", "drop"], seed=3)
    for _ in range(20):
        assert http.get(emulator.url + "/_emulator/health").status_code == 200
        assert http.get(emulator.url + "/_emulator/faults").status_code == 200
    shown = http.get(emulator.url + "/_emulator/faults").json()
    assert shown["total"] == 0 and shown["calls"] == {"flexmatch": 0, "teambattles": 0}


# --- each kind, in each service's shape ------------------------------------------------------------


def test_errors_come_in_each_service_shape(emulator: EmulatorThread, http: httpx.Client):
    url = emulator.url
    expected = {
        "500": (500, "InternalServiceException", 500, "error_internal"),
        "503": (503, "ServiceUnavailableException", 503, "error_internal"),
        "throttle": (400, "ThrottlingException", 429, "error_api_rate_limited"),
    }
    for kind, (fm_status, fm_code, tb_status, tb_code) in expected.items():
        set_faults(url, rate=1.0, kinds=[kind], afterShare=0.0, retryAfterSeconds=2)
        r = gamelift_json(http, url, "DescribeMatchmaking", {"TicketIds": ["t-1"]})
        assert r.status_code == fm_status
        assert r.json()["__type"] == fm_code and r.headers["x-amzn-errortype"] == fm_code
        r = gamelift_cbor(http, url, "DescribeMatchmaking", {"TicketIds": ["t-1"]})
        assert r.status_code == fm_status and r.headers["smithy-protocol"] == "rpc-v2-cbor"
        assert cbor2.loads(r.content)["__type"] == f"com.amazonaws.gamelift#{fm_code}"
        r = http.get(url + "/api/v1/games", headers=AUTH)
        assert r.status_code == tb_status and r.json()["error"] == tb_code
        if kind == "throttle":
            assert r.headers["Retry-After"] == "2"
            assert r.headers["X-RateLimit-Remaining"] == "0"
            assert r.headers["X-RateLimit-Reset"] == "2"
            assert int(r.headers["X-RateLimit-Limit"]) > 0
            assert r.json()["details"]
    assert http.get(url + "/_emulator/faults").json()["injected"]["throttle"] == {
        "before": 3,
        "after": 0,
    }


def test_boto3_reads_the_throttle_as_gamelift_would_send_it(emulator: EmulatorThread):
    from botocore.exceptions import ClientError
    from flexmatch_helpers import gamelift

    set_faults(emulator.url, rate=1.0, kinds=["throttle"])
    with pytest.raises(ClientError) as info:
        gamelift(emulator.url).describe_matchmaking(TicketIds=["t-1"])
    assert info.value.response["Error"]["Code"] == "ThrottlingException"
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_slow_answers_are_the_real_answer(emulator: EmulatorThread, http: httpx.Client):
    set_faults(emulator.url, rate=1.0, kinds=["slow"], delaySeconds=0.05, seed=5)
    r = gamelift_json(http, emulator.url, "DescribeMatchmaking", {"TicketIds": ["t-1"]})
    assert r.status_code == 200 and r.json() == {"TicketList": []}
    assert r.headers["x-emulator-fault"].startswith("slow")
    r = http.get(emulator.url + "/api/v1/games", headers=AUTH)
    assert r.status_code == 200 and r.json()["games"]


def test_drop_closes_the_connection_without_an_answer(emulator: EmulatorThread, http: httpx.Client):
    set_faults(emulator.url, rate=1.0, kinds=["drop"], afterShare=0.0)
    with pytest.raises(httpx.RemoteProtocolError):
        gamelift_json(http, emulator.url, "DescribeMatchmaking", {"TicketIds": ["t-1"]})
    with pytest.raises(httpx.RemoteProtocolError):
        http.get(emulator.url + "/api/v1/games", headers=AUTH)
    clear_faults(emulator.url)
    # The server is fine afterwards, on new connections.
    assert http.get(emulator.url + "/api/v1/games", headers=AUTH).status_code == 200


async def test_adapters_see_faults_as_retryable_failures(emulator: EmulatorThread):
    """After their attempts, lobby's adapters report a dropped connection or a 5xx as
    Unavailable and a throttle as Throttled: the kinds a person may simply try again."""
    fast = RetryPolicy(base=0.01)
    fm = FlexMatchClient(emulator.url, region="us-east-1", credentials=CredentialSource(), retry=fast)
    tb = TeamBattlesClient(
        emulator.url + "/api/v1", check_key(YOU, "test"), retry=RetryPolicy(max_attempts=2, base=0.01)
    )
    async with fm, tb, asyncio.timeout(HANG):
        for kind, error in (("drop", Unavailable), ("500", Unavailable), ("503", Unavailable)):
            set_faults(emulator.url, rate=1.0, kinds=[kind])
            with pytest.raises(error):
                await fm.describe_matchmaking(["t-1"])
            with pytest.raises(error):
                await tb.games()
        set_faults(emulator.url, rate=1.0, kinds=["throttle"], retryAfterSeconds=0)
        with pytest.raises(Throttled):
            await fm.describe_matchmaking(["t-1"])
        with pytest.raises(Throttled):
            await tb.games()
    shown = httpx.get(emulator.url + "/_emulator/faults").json()
    assert shown["calls"]["flexmatch"] == 3 and shown["calls"]["teambattles"] == 2


# --- before or after --------------------------------------------------------------------------------


def _create_rule_set(http: httpx.Client, url: str, name: str) -> httpx.Response | None:
    """CreateMatchmakingRuleSet of a one-team rule set; None where the answer never came."""
    body = {"ruleLanguageVersion": "1.0", "teams": [{"name": "a", "minPlayers": 1, "maxPlayers": 1}]}
    try:
        return gamelift_json(http, url, "CreateMatchmakingRuleSet", {"Name": name, "RuleSetBody": json.dumps(body)})
    except httpx.RemoteProtocolError:
        return None


def test_an_after_fault_commits_the_call_and_loses_its_answer(emulator: EmulatorThread, http: httpx.Client):
    url = emulator.url
    set_faults(url, rate=1.0, kinds=["500", "503", "drop"], afterShare=1.0, seed=21)
    for n in range(6):
        r = _create_rule_set(http, url, f"after-{n}")
        if r is not None:  # None: the connection was dropped
            assert r.status_code in (500, 503)
    shown = http.get(url + "/_emulator/faults").json()
    assert shown["total"] == 6 and all(f["phase"] == "after" for f in shown["recent"])
    clear_faults(url)
    listed = gamelift_json(http, url, "DescribeMatchmakingRuleSets", {"Names": [f"after-{n}" for n in range(6)]})
    assert sorted(r["RuleSetName"] for r in listed.json()["RuleSets"]) == [f"after-{n}" for n in range(6)]


def test_a_before_fault_changes_nothing(emulator: EmulatorThread, http: httpx.Client):
    url = emulator.url
    set_faults(url, rate=1.0, kinds=["500", "503", "drop", "throttle"], afterShare=0.0, seed=4)
    for n in range(6):
        r = _create_rule_set(http, url, f"before-{n}")
        if r is not None:  # None: the connection was dropped
            assert r.status_code in (400, 500, 503)
    clear_faults(url)
    listed = gamelift_json(http, url, "DescribeMatchmakingRuleSets", {"Names": [f"before-{n}" for n in range(6)]})
    assert listed.status_code == 400 or listed.json()["RuleSets"] == []


def test_teambattles_lost_answer_is_replayed_for_the_same_key(emulator: EmulatorThread, http: httpx.Client):
    url = emulator.url
    set_faults(url, rate=1.0, kinds=["500"], afterShare=1.0)
    headers = {**AUTH, "Idempotency-Key": "same-submit-1"}
    lost = http.post(f"{url}/api/v1/matches/{VIPERS_HP}/accept", json=owls_accept_body(), headers=headers)
    assert lost.status_code == 500
    clear_faults(url)
    again = http.post(f"{url}/api/v1/matches/{VIPERS_HP}/accept", json=owls_accept_body(), headers=headers)
    assert again.status_code == 200 and again.headers["Idempotent-Replayed"] == "true"
    rows = emulator.runtime.store.query(
        "SELECT id FROM tb_acceptances WHERE match_id = ? AND team_id = 't_owls'", (VIPERS_HP,)
    )
    assert [r[0] for r in rows] == [again.json()["acceptanceId"]]


def test_the_seed_decides_which_calls_are_hit(emulator: EmulatorThread, http: httpx.Client):
    def run(seed: int) -> list[tuple[int, str, str]]:
        set_faults(emulator.url, rate=0.5, kinds=["500", "503", "throttle", "slow"], seed=seed, delaySeconds=0.0)
        for _ in range(40):
            http.get(emulator.url + "/api/v1/games", headers=AUTH)
        return [(f["n"], f["kind"], f["phase"]) for f in http.get(emulator.url + "/_emulator/faults").json()["recent"]]

    first, again, other = run(17), run(17), run(18)
    assert first == again
    assert first != other
    assert 5 < len(first) < 35  # about half of 40


def test_cli_flags_turn_faults_on(tmp_path: Path):
    env = {**os.environ, "LOBBY_STATE_DIR": str(tmp_path / "state")}
    argv = [sys.executable, "-m", "lobby", "emulator", "--db", ":memory:", "--faults", "0.25,500,drop",
            "--fault-seed", "9", "--fault-delay", "0.1"]  # fmt: skip
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:"), proc.stderr.read() if proc.stderr else ""
        shown = httpx.get(url + "/_emulator/faults", timeout=HANG).json()
        assert (shown["rate"], shown["kinds"], shown["seedInUse"], shown["delaySeconds"]) == (
            0.25, ["500", "drop"], 9, 0.1,
        )  # fmt: skip
        statuses = []
        for _ in range(20):
            try:
                statuses.append(httpx.get(url + "/api/v1/games", headers=AUTH, timeout=HANG).status_code)
            except httpx.RemoteProtocolError:
                statuses.append(0)
        shown = httpx.get(url + "/_emulator/faults", timeout=HANG).json()
        assert shown["calls"]["teambattles"] == 20
        assert statuses.count(200) == 20 - shown["total"] and 0 < shown["total"] < 20
    finally:
        proc.terminate()
        proc.wait(HANG)
    bad = subprocess.run(
        [sys.executable, "-m", "lobby", "emulator", "--db", ":memory:", "--faults", "0.3,meteor"],
        capture_output=True, text=True, env=env, timeout=HANG,
    )  # fmt: skip
    assert bad.returncode != 0 and "meteor" in bad.stderr and "Traceback" not in bad.stderr


# --- the exactly-once campaign, short -----------------------------------------------------------------


@pytest.mark.slow
async def test_150_accepts_at_30_percent_faults_are_each_recorded_exactly_once(tmp_path: Path):
    config = EmulatorConfig(scenario=scenario_with_matches(tmp_path, 76))
    with EmulatorThread(config) as emu:
        campaign = Campaign(emu.url, flexmatch_actions=76, teambattles_actions=76, backoff_base=0.02, concurrency=12)
        await campaign.prepare_flexmatch()
        set_faults(emu.url, rate=0.3, seed=2026, delaySeconds=0.05, retryAfterSeconds=0)
        await campaign.run()
        shown = clear_faults(emu.url)
        result = await campaign.verify(emu.runtime.store)
    assert campaign.errors == []
    assert result["lost"] == 0 and result["doubled"] == 0
    # The faults really happened, of every kind, and some after the call had run.
    assert all(sum(shown["injected"][k].values()) > 0 for k in shown["injected"]), shown["injected"]
    assert sum(v["after"] for v in shown["injected"].values()) > 0
    assert shown["total"] >= 0.2 * sum(shown["calls"].values())


# --- the adapters across lost answers (regressions) ------------------------------------------------


async def _proposed_duel(fm: FlexMatchClient, name: str) -> None:
    """Two one-player tickets (``<name>-a``, ``<name>-b``) proposed to each other."""
    await fm.create_matchmaking_rule_set(
        f"{name}-rules",
        {"ruleLanguageVersion": "1.0", "teams": [{"name": "red", "minPlayers": 1, "maxPlayers": 1},
                                                  {"name": "blue", "minPlayers": 1, "maxPlayers": 1}]},
    )  # fmt: skip
    await fm.create_matchmaking_configuration(
        name=name, rule_set_name=f"{name}-rules", acceptance_required=True,
        acceptance_timeout_seconds=600, request_timeout_seconds=600, flex_match_mode="STANDALONE",
    )  # fmt: skip
    await fm.start_matchmaking(name, [f"{name}-pa"], ticket_id=f"{name}-a")
    await fm.start_matchmaking(name, [f"{name}-pb"], ticket_id=f"{name}-b")
    while {t.status.value for t in await fm.describe_matchmaking([f"{name}-a", f"{name}-b"])} != {
        "REQUIRES_ACCEPTANCE"
    }:
        await asyncio.sleep(0.02)


async def test_a_retried_accept_whose_first_answer_was_lost_succeeds_when_the_match_went_ahead(
    emulator: EmulatorThread,
):
    """The accept that completes a match loses its answer; the retry is refused because the
    ticket is COMPLETED. That acceptance was recorded: the adapter reports success."""

    async def no_faults_after_first(_seconds: float) -> None:
        await asyncio.to_thread(clear_faults, emulator.url)

    fm = FlexMatchClient(
        emulator.url, region="us-east-1", credentials=CredentialSource(), sleep=no_faults_after_first
    )
    async with fm, asyncio.timeout(HANG):
        await _proposed_duel(fm, "lost")
        await fm.accept_match("lost-a", ["lost-pa"])
        set_faults(emulator.url, rate=1.0, kinds=["drop"], afterShare=1.0)
        await fm.accept_match("lost-b", ["lost-pb"])  # answer lost, then refused as COMPLETED
        [ticket] = await fm.describe_matchmaking(["lost-b"])
        assert ticket.status.value == "COMPLETED"
        assert fm.requests >= 2
        # A refusal without any lost answer is still a refusal.
        with pytest.raises(InvalidRequest):
            await fm.accept_match("lost-b", ["lost-pb"])


async def test_pressing_accept_again_after_the_adapter_gave_up_succeeds_when_the_match_went_ahead(
    emulator: EmulatorThread,
):
    fm = FlexMatchClient(
        emulator.url, region="us-east-1", credentials=CredentialSource(), retry=RetryPolicy(max_attempts=1)
    )
    async with fm, asyncio.timeout(HANG):
        await _proposed_duel(fm, "again")
        await fm.accept_match("again-a", ["again-pa"])
        set_faults(emulator.url, rate=1.0, kinds=["500"], afterShare=1.0)
        with pytest.raises(Unavailable):
            await fm.accept_match("again-b", ["again-pb"])
        clear_faults(emulator.url)
        await fm.accept_match("again-b", ["again-pb"])  # refused as COMPLETED, yet it stands
        # A REJECT is never taken for done that way.
        with pytest.raises(InvalidRequest):
            await fm.accept_match("again-b", ["again-pb"], "REJECT")


async def test_submitting_again_after_a_lost_answer_reuses_the_key(emulator: EmulatorThread):
    """A request to play whose answer was lost is sent again with the same Idempotency-Key:
    the service replays the first answer, so the acceptance id is learnt, not refused as a
    second request."""
    client = TeamBattlesClient(
        emulator.url + "/api/v1", check_key(YOU, "test"), retry=RetryPolicy(max_attempts=2, base=0.01)
    )
    backend = TeamBattlesBackend(client, requests=RequestStore("faults"), user="you")
    draft = AcceptanceDraft(team_id="t_owls", active_roster=tuple(OWLS_ACTIVE))
    async with backend, asyncio.timeout(HANG):
        set_faults(emulator.url, rate=1.0, kinds=["500"], afterShare=1.0, methods=["POST"])
        with pytest.raises(Unavailable):
            await backend.submit(VIPERS_HP, draft)
        clear_faults(emulator.url)
        record = await backend.submit(VIPERS_HP, draft)
    rows = emulator.runtime.store.query(
        "SELECT id FROM tb_acceptances WHERE match_id = ? AND team_id = 't_owls'", (VIPERS_HP,)
    )
    assert [r[0] for r in rows] == [record.acceptance_id]
