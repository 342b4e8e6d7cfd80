"""`lobby emulator` killed with SIGKILL in the middle of a burst of accepts, then restarted on
the same database and port: every acceptance that was answered 200 is still there, acceptance
deadlines that passed while it was down resolve as timed out while pending ones keep theirs,
and an event-stream client resumes across the restart without a gap or a duplicate.

The emulator runs as its own process (``python -m lobby emulator --db FILE``), as a person runs
it; the tests read its SQLite file directly only to check what it stored.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from reliability_helpers import OWLS_ACTIVE, YOU, match_ids, read_events, scenario_with_matches

from lobby.core.errors import BackendError
from lobby.flexmatch.client import FlexMatchClient
from lobby.flexmatch.lifecycle import EventType
from lobby.flexmatch.signing import CredentialSource
from lobby.net.retry import RetryPolicy
from lobby.net.stream import EventFeed
from lobby.teambattles import wire as m
from lobby.teambattles.client import TeamBattlesClient
from lobby.teambattles.keys import check_key

pytestmark = pytest.mark.slow

#: Guards against hangs only; nothing asserts on elapsed time.
HANG = 60


class EmulatorProcess:
    """``lobby emulator`` in a child process on a fixed database (and, once known, port)."""

    def __init__(self, db: Path, scenario: Path, log: Path) -> None:
        self.db, self.scenario, self.log = db, scenario, log
        self.port = 0
        self.proc: subprocess.Popen[str] | None = None
        self.url = ""

    def start(self) -> EmulatorProcess:
        argv = [sys.executable, "-m", "lobby", "emulator", "--db", str(self.db),
                "--scenario", str(self.scenario), "--port", str(self.port)]  # fmt: skip
        with self.log.open("a") as err:
            self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=err, text=True)
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline().strip()
        assert line.startswith("http://"), f"no URL announced: {line!r} {self.log.read_text()[-2000:]}"
        self.url = line
        self.port = int(line.rsplit(":", 1)[1])
        deadline = time.monotonic() + HANG
        while True:  # serving once the health check answers
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(self.url + "/_emulator/health", timeout=2).status_code == 200:
                    return self
            assert time.monotonic() < deadline, "the emulator did not come up"
            time.sleep(0.05)

    def kill(self) -> None:
        assert self.proc is not None
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(HANG)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(HANG)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(HANG)


@pytest.fixture
def emulator_process(tmp_path: Path):
    started: list[EmulatorProcess] = []

    def make(teambattles_matches: int = 0) -> EmulatorProcess:
        scenario = scenario_with_matches(tmp_path, teambattles_matches)
        emu = EmulatorProcess(tmp_path / "emulator.sqlite3", scenario, tmp_path / "emulator.log")
        started.append(emu)
        return emu.start()

    yield make
    for emu in started:
        emu.stop()


def read_db(db: Path, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)) as conn:
        return [tuple(r) for r in conn.execute(sql, params).fetchall()]


def flexmatch(url: str, attempts: int = 3) -> FlexMatchClient:
    return FlexMatchClient(
        url, region="us-east-1", credentials=CredentialSource(),
        retry=RetryPolicy(max_attempts=attempts, base=0.05),
    )  # fmt: skip


async def configuration(client: FlexMatchClient, name: str, *, per_team: int, timeout: int) -> None:
    await client.create_matchmaking_rule_set(
        f"{name}-rules",
        {"ruleLanguageVersion": "1.0", "teams": [
            {"name": "red", "minPlayers": per_team, "maxPlayers": per_team},
            {"name": "blue", "minPlayers": per_team, "maxPlayers": per_team},
        ]},
    )  # fmt: skip
    await client.create_matchmaking_configuration(
        name=name, rule_set_name=f"{name}-rules", acceptance_required=True,
        acceptance_timeout_seconds=timeout, request_timeout_seconds=3600, flex_match_mode="STANDALONE",
    )  # fmt: skip


async def proposed(client: FlexMatchClient, configuration_name: str, players: dict[str, str]) -> None:
    """One single-player ticket per player, waited for until every one is REQUIRES_ACCEPTANCE."""
    for player, ticket in players.items():
        await client.start_matchmaking(configuration_name, [player], ticket_id=ticket)
    while True:
        found = await client.describe_matchmaking(players.values())
        if len(found) == len(players) and {t.status.value for t in found} == {"REQUIRES_ACCEPTANCE"}:
            return
        await asyncio.sleep(0.05)


def accepted_in_events(events: list[tuple[str, dict]]) -> set[str]:
    """Players shown as accepted by some AcceptMatch event."""
    out = set()
    for _, data in events:
        detail = data.get("detail", {})
        if data.get("source") == "aws.gamelift" and detail.get("type") == EventType.ACCEPT_MATCH:
            for ticket in detail.get("tickets", []):
                out |= {p["playerId"] for p in ticket.get("players", []) if p.get("accepted") is True}
    return out


async def test_sigkill_in_a_burst_keeps_every_answered_acceptance_and_the_feed_resumes(
    emulator_process,
):
    tb_matches = 60
    emu = emulator_process(tb_matches)
    players = {f"cp-{i:03d}": f"ct-{i:03d}" for i in range(60)}
    async with flexmatch(emu.url) as setup:
        await configuration(setup, "crash", per_team=2, timeout=600)
        await proposed(setup, "crash", players)

    received: list[int] = []
    async with httpx.AsyncClient() as feed_http:
        feed = EventFeed(feed_http, emu.url, max_backoff=0.3)

        async def follow() -> None:
            async for event in feed:
                received.append(event.id)

        follower = asyncio.create_task(follow())

        # The burst: one attempt per action, so an answer means exactly what it says.
        answered_fm: set[str] = set()
        answered_tb: dict[str, str] = {}
        failed = 0
        fm = flexmatch(emu.url, attempts=1)
        tb = TeamBattlesClient(emu.url + "/api/v1", check_key(YOU, "test"), retry=RetryPolicy(max_attempts=1))
        work = [("fm", p) for p in players] + [("tb", mid) for mid in match_ids(tb_matches)]
        work = [w for pair in zip(work[: len(players)], work[len(players) :], strict=True) for w in pair]
        killed = asyncio.Event()

        async def act(kind: str, target: str) -> None:
            nonlocal failed
            try:
                if kind == "fm":
                    await fm.accept_match(players[target], [target])
                    answered_fm.add(target)
                else:
                    body = m.AcceptMatchRequestBody(team_id="t_owls", active_roster=list(OWLS_ACTIVE))
                    answer = await tb.create_acceptance(target, body)
                    answered_tb[target] = answer.acceptance_id
            except BackendError:
                failed += 1

        async def burst() -> None:
            for i in range(0, len(work), 6):
                await asyncio.gather(*(act(*w) for w in work[i : i + 6]))
                if len(answered_fm) + len(answered_tb) >= 40 and not killed.is_set():
                    killed.set()

        async def killer() -> None:
            await killed.wait()
            await asyncio.to_thread(emu.kill)

        async with asyncio.timeout(HANG):
            await asyncio.gather(burst(), killer())
        await fm.aclose()
        await tb.aclose()
        assert answered_fm and answered_tb and failed, "the kill should land inside the burst"

        await asyncio.to_thread(emu.start)  # same database, same port

        # Everything answered 200 is still there: in the database and in the event log.
        rows = dict(read_db(emu.db, "SELECT player_id, answer FROM fm_ticket_players"))
        assert {p for p in answered_fm if rows.get(p) != "ACCEPTED"} == set()
        acceptances = dict(read_db(emu.db, "SELECT id, match_id FROM tb_acceptances WHERE team_id='t_owls'"))
        assert {a: acceptances.get(a) for a in answered_tb.values()} == {a: mid for mid, a in answered_tb.items()}
        events = await asyncio.to_thread(read_events, emu.url)
        assert answered_fm <= accepted_in_events(events)
        created = {
            d["data"]["acceptance"]["id"] for _, d in events if d.get("event") == "emulator.acceptance.created"
        }
        assert set(answered_tb.values()) <= created

        # After the restart, more changes: the feed follows them too.
        async with flexmatch(emu.url) as after:
            for player, ticket in players.items():
                if player not in answered_fm:
                    with contextlib.suppress(BackendError):
                        await after.accept_match(ticket, [player])
        last = httpx.get(emu.url + "/_emulator/health").json()["lastEventId"]
        async with asyncio.timeout(HANG):
            while feed.last_event_id < last:
                await asyncio.sleep(0.05)
        follower.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await follower

    log_ids = [int(i) for (i,) in read_db(emu.db, "SELECT id FROM events ORDER BY id")]
    assert feed.reconnects >= 1
    assert received == log_ids  # every event once, in order: no gap, no duplicate


async def test_deadlines_that_passed_while_down_time_out_and_pending_ones_keep_theirs(
    emulator_process,
):
    emu = emulator_process()
    short = {"sp-a": "st-a", "sp-b": "st-b"}
    long = {"lp-a": "lt-a", "lp-b": "lt-b"}
    async with flexmatch(emu.url) as client:
        await configuration(client, "short", per_team=1, timeout=5)
        await configuration(client, "long", per_team=1, timeout=600)
        await proposed(client, "long", long)
        await proposed(client, "short", short)
        await client.accept_match("st-a", ["sp-a"])
        await client.accept_match("lt-a", ["lp-a"])
    deadlines = dict(read_db(emu.db, "SELECT config_name, deadline FROM fm_matches WHERE status='PROPOSED'"))
    assert set(deadlines) == {"short", "long"}
    emu.kill()

    # Down until the short deadline has passed (the long one is minutes away).
    while time.time() < deadlines["short"] + 0.5:
        time.sleep(0.1)
    emu.start()

    async with flexmatch(emu.url) as client, asyncio.timeout(HANG):
        while True:
            found = {t.ticket_id: t.status.value for t in await client.describe_matchmaking(["st-a", "st-b"])}
            if "REQUIRES_ACCEPTANCE" not in found.values():
                break
            await asyncio.sleep(0.05)
        # The reference rule: a ticket whose players all accepted searches again; one with a
        # player who never answered is cancelled.
        assert found == {"st-a": "SEARCHING", "st-b": "CANCELLED"}
        still = {t.ticket_id: t.status.value for t in await client.describe_matchmaking(["lt-a", "lt-b"])}
        assert still == {"lt-a": "REQUIRES_ACCEPTANCE", "lt-b": "REQUIRES_ACCEPTANCE"}
        after = dict(read_db(emu.db, "SELECT config_name, deadline FROM fm_matches WHERE config_name='long'"))
        assert after["long"] == deadlines["long"]
        # The long round is still open: its last answer completes the match.
        await client.accept_match("lt-b", ["lp-b"])
        done = {t.ticket_id: t.status.value for t in await client.describe_matchmaking(["lt-a", "lt-b"])}
        assert done == {"lt-a": "COMPLETED", "lt-b": "COMPLETED"}

    events = [d for _, d in read_events(emu.url) if d.get("source") == "aws.gamelift"]
    outcomes = {
        e["detail"]["matchId"]: e["detail"]["acceptance"]
        for e in events
        if e["detail"]["type"] == EventType.ACCEPT_MATCH_COMPLETED
    }
    assert sorted(outcomes.values()) == ["Accepted", "TimedOut"]
    cancelled = [e for e in events if e["detail"]["type"] == EventType.CANCELLED]
    assert [t["ticketId"] for e in cancelled for t in e["detail"]["tickets"]] == ["st-b"]
    assert json.dumps(events)  # the log reads back whole after the kill
