"""Token buckets per plan and per address: X-RateLimit-* on every answer, 429 with Retry-After
equal to X-RateLimit-Reset. The demo scenario meters with the service's own buckets; these tests
shrink them through a scenario file, and only ``raised_rate_limits`` raises them."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator

import httpx
import pytest
from teambattles_helpers import TB, YOU, YOU_FREE, YOU_STUDIO, advance, error_of, scenario_file

from lobby.emulator.runtime import EmulatorConfig
from lobby.emulator.server import EmulatorThread
from lobby.emulator.teambattles.scenario import RateLimits

# Slow refills: no amount of real time a test takes brings a token back; the clock route does.
SMALL = {
    "free": {"burst": 2, "per_second": 0.005},
    "pro": {"burst": 3, "per_second": 0.01},
    "studio": {"burst": 10, "per_second": 0.05},
    "ip": {"burst": 300, "per_second": 50},  # the service's own: no scenario raises it quietly
}


@pytest.fixture
def small(tmp_path) -> Iterator[TB]:
    config = EmulatorConfig(scenario=scenario_file(tmp_path, rate_limits=SMALL), time_travel=True)
    with EmulatorThread(config) as emu:
        client = TB(emu.url)
        yield client
        client.close()


def limits(r) -> tuple[int, int, int]:
    h = r.headers
    return int(h["x-ratelimit-limit"]), int(h["x-ratelimit-remaining"]), int(h["x-ratelimit-reset"])


def test_the_service_limits_are_the_defaults():
    d = RateLimits()
    assert (d.free.burst, d.free.per_second) == (60, 1)
    assert (d.pro.burst, d.pro.per_second) == (300, 10)
    assert (d.studio.burst, d.studio.per_second) == (1000, 30)
    assert (d.ip.burst, d.ip.per_second) == (300, 50)


def test_headers_count_down_per_key(small):
    got = [limits(small.get("/games")) for _ in range(3)]
    assert [g[0] for g in got] == [3, 3, 3]
    assert [g[1] for g in got] == [2, 1, 0]
    assert got[-1][2] == 300  # seconds until the bucket is full again, not a timestamp
    assert limits(small.as_(YOU_STUDIO).get("/games"))[:2] == (10, 9)  # a bucket per key and plan


def test_an_empty_bucket_answers_429_until_it_refills(small):
    for _ in range(3):
        assert small.get("/games").status_code == 200
    r = small.get("/games")
    assert (r.status_code, error_of(r)) == (429, "error_api_rate_limited")
    assert int(r.headers["retry-after"]) >= 1 and limits(r)[1] == 0
    assert r.headers["retry-after"] == r.headers["x-ratelimit-reset"]
    r = small.post("/user/matches", {})
    assert r.status_code == 429  # also on a route whose contract lists no 429
    advance(small.base, int(r.headers["retry-after"]))
    assert small.get("/games").status_code == 200
    # Other plans have their own buckets.
    assert small.as_(YOU_STUDIO).get("/games").status_code == 200


def test_free_plan_bucket(small):
    free = small.as_(YOU_FREE)
    assert [free.get("/games").status_code for _ in range(3)] == [200, 200, 429]
    r = free.get("/games")
    # One token every 200 seconds, a burst of 2: full again in 400, and Retry-After says the same.
    assert int(r.headers["retry-after"]) == 400 == limits(r)[2]


def test_refused_requests_carry_the_headers_too(small):
    r = small.get("/games", key=None)
    assert r.status_code == 401 and limits(r)[0] == 300  # no key: the address bucket
    r = small.accept("tbm_nope", {"teamId": "t_owls", "activeRoster": ["u_you"]})
    assert r.status_code == 404 and limits(r)[0] == 3


def test_the_address_guard(tmp_path):
    tight = dict(SMALL, ip={"burst": 2, "per_second": 0.01})
    config = EmulatorConfig(scenario=scenario_file(tmp_path, rate_limits=tight), time_travel=True)
    with EmulatorThread(config) as emu:
        client = TB(emu.url)
        assert client.get("/games").status_code == 200
        assert client.get("/games", key=None).status_code == 401
        r = client.as_(YOU_STUDIO).get("/games")
        assert (r.status_code, error_of(r)) == (429, "error_ip_rate_limited")
        assert int(r.headers["retry-after"]) == 200 == limits(r)[2]
        client.close()


def test_the_demo_scenario_meters_with_the_service_buckets(emulator):
    client = TB(emulator.url, YOU)
    assert limits(client.get("/games"))[0] == RateLimits().pro.burst
    client.close()


def test_a_scenario_raises_the_buckets_only_by_name(tmp_path):
    from lobby.emulator.scenario import ScenarioError, load_scenario

    big = dict(SMALL, pro={"burst": 5000, "per_second": 500})
    with pytest.raises(ScenarioError, match="raised_rate_limits"):
        load_scenario(scenario_file(tmp_path, rate_limits=big))
    raised = {**big, "reason": "load test"}
    scenario = load_scenario(scenario_file(tmp_path, raised_rate_limits=raised)).teambattles
    assert scenario.effective_rate_limits.pro.burst == 5000
    notice = scenario.raised_limits_notice() or ""
    assert "pro" in notice and "load test" in notice


def test_raised_buckets_are_announced(tmp_path, caplog):
    raised = {**dict(SMALL, pro={"burst": 5000, "per_second": 500}), "reason": "load test"}
    config = EmulatorConfig(scenario=scenario_file(tmp_path, raised_rate_limits=raised))
    with caplog.at_level("WARNING", logger="lobby.emulator.teambattles"):
        with EmulatorThread(config) as emu:
            client = TB(emu.url)
            assert limits(client.get("/games"))[0] == 5000
            client.close()
    assert any("raised" in r.getMessage() and "load test" in r.getMessage() for r in caplog.records)


def test_the_health_answer_says_whether_the_buckets_are_raised(tmp_path, emulator):
    assert httpx.get(emulator.url + "/_emulator/health").json()["raisedRateLimits"] is None
    raised = {**dict(SMALL, pro={"burst": 5000, "per_second": 500}), "reason": "load test"}
    config = EmulatorConfig(scenario=scenario_file(tmp_path, raised_rate_limits=raised))
    with EmulatorThread(config) as emu:
        shown = httpx.get(emu.url + "/_emulator/health").json()["raisedRateLimits"]
    assert shown["buckets"] == ["pro"] and shown["reason"] == "load test"
    assert "pro" in shown["notice"] and "load test" in shown["notice"]


@pytest.mark.parametrize("command", [["emulator", "--port", "0"], ["demo", "--log", "--port", "0"]])
def test_the_command_line_says_so_at_start(tmp_path, command):
    raised = {**SMALL, "reason": "load test \x1b[31mred"}
    raised["studio"] = {"burst": 5000, "per_second": 500}
    path = scenario_file(tmp_path, raised_rate_limits=raised)
    env = {**os.environ, "LOBBY_STATE_DIR": str(tmp_path / "state")}
    argv = [sys.executable, "-m", "lobby", *command, "--db", ":memory:", "--scenario", str(path)]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        assert proc.stdout is not None and proc.stderr is not None
        url = proc.stdout.readline().split()
        said = proc.stderr.readline()
        assert any(word.startswith("http://127.0.0.1:") for word in url)
        assert said.startswith("lobby: TeamBattles rate limits raised") and "(studio)" in said
        assert "load test" in said and "\x1b" not in said  # a scenario's text, cleaned
    finally:
        proc.terminate()
        proc.wait(30)
        proc.stdout.close()
        proc.stderr.close()


def test_default_limits_print_nothing_about_them(tmp_path):
    env = {**os.environ, "LOBBY_STATE_DIR": str(tmp_path / "state")}
    argv = [sys.executable, "-m", "lobby", "emulator", "--port", "0", "--db", ":memory:"]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().startswith("http://127.0.0.1:")
    finally:
        proc.terminate()
        proc.wait(30)
    assert proc.stderr is not None
    assert "rate limits raised" not in proc.stderr.read()
    proc.stdout.close()
    proc.stderr.close()
