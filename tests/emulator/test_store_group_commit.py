"""Group commit: FlexMatch requests served together share one COMMIT, and none is answered before
it. Checked on the store itself (savepoints, callbacks, who commits an open group, a COMMIT that
fails) and through the endpoints over real HTTP and on the ASGI app."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from flexmatch_helpers import JSON_HEADERS, advance, config_for, gamelift, rule_set_body

from lobby.emulator.app import create_app, serving_app
from lobby.emulator.server import EmulatorThread
from lobby.emulator.store import CommitGroup, Store
from lobby.flexmatch.lifecycle import EventType

#: Guards against hangs only; nothing asserts on elapsed time.
HANG = 30


def open_store(path: Path) -> Store:
    store = Store(path)
    store.migrate(
        "group-tests",
        [
            "CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT NOT NULL);"
            " CREATE TABLE parents (id INTEGER PRIMARY KEY);"
            " CREATE TABLE children (id INTEGER PRIMARY KEY, parent INTEGER NOT NULL"
            "  REFERENCES parents (id) DEFERRABLE INITIALLY DEFERRED)"
        ],
    )
    return store


def outside(path: Path, sql: str, params: tuple[Any, ...] = ()) -> list[Any]:
    """What another connection (another process, a restart) sees: committed rows only."""
    with sqlite3.connect(path) as other:
        return other.execute(sql, params).fetchall()


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "g.db"


@pytest.fixture
def store(path: Path) -> Iterator[Store]:
    """A store of its own at ``path``, closed after the test."""
    opened = open_store(path)
    try:
        yield opened
    finally:
        opened.close()


def open_group(store: Store, item: int) -> CommitGroup:
    """The group a grouped insert of ``item`` opened (and left open)."""
    grouped_insert(store, item)
    group = store.group
    assert group is not None
    return group


def grouped_insert(store: Store, item: int, *, fail: bool = False, log: list[str] | None = None) -> None:
    with store.grouped():
        try:
            with store.transaction() as db:
                db.execute("INSERT INTO items (id, name) VALUES (?, ?)", (item, f"item {item}"))
                if log is not None:
                    store.after_commit(lambda: log.append(f"committed {item}"))
                    store.after_rollback(lambda: log.append(f"rolled back {item}"))
                if fail:
                    raise RuntimeError("refused")
        except RuntimeError:
            pass


def test_grouped_transactions_share_one_commit_and_their_callbacks_wait_for_it(path: Path, store: Store):
    log: list[str] = []
    grouped_insert(store, 1, log=log)
    group = store.group
    assert group is not None and not group.done
    grouped_insert(store, 2, log=log)
    assert store.group is group  # the second joined the first's transaction
    assert outside(path, "SELECT id FROM items") == []
    assert log == []
    with store.grouped():  # inside the group, its own writes are visible
        assert [r[0] for r in store.query("SELECT id FROM items ORDER BY id")] == [1, 2]
    store.commit_group(group)
    assert group.done and not group.failed and store.group is None
    assert outside(path, "SELECT id FROM items ORDER BY id") == [(1,), (2,)]
    assert log == ["committed 1", "committed 2"]
    store.commit_group(group)  # a second call has nothing left to do
    assert log == ["committed 1", "committed 2"]
    # Asked for between the transactions of a grouped request, a callback waits for the group.
    grouped_insert(store, 3)
    with store.grouped():
        store.after_commit(lambda: log.append("after 3"))
    assert log == ["committed 1", "committed 2"]
    store.commit_group(store.group)  # type: ignore[arg-type]
    assert log == ["committed 1", "committed 2", "after 3"]


def test_a_failing_request_undoes_only_its_own_part_of_the_group(path: Path, store: Store):
    log: list[str] = []
    grouped_insert(store, 1, log=log)
    grouped_insert(store, 2, fail=True, log=log)
    assert log == ["rolled back 2"]  # at once: its in-memory state must go now
    grouped_insert(store, 3, log=log)
    group = store.group
    assert group is not None
    store.commit_group(group)
    assert outside(path, "SELECT id FROM items ORDER BY id") == [(1,), (3,)]
    assert log == ["rolled back 2", "committed 1", "committed 3"]


def test_anything_else_touching_the_store_commits_the_open_group_first(path: Path, store: Store):
    group = open_group(store, 1)
    woken: list[bool] = []
    group.when_done(lambda: woken.append(group.failed))
    # A plain read (an event stream, the scheduler's look-ahead) sees only committed state.
    assert [r[0] for r in store.query("SELECT id FROM items")] == [1]
    assert group.done and woken == [False]
    assert outside(path, "SELECT id FROM items") == [(1,)]

    grouped_insert(store, 2)
    second = store.group
    assert second is not None and second is not group
    with store.transaction() as db:  # a plain write transaction
        db.execute("INSERT INTO items (id, name) VALUES (3, 'plain')")
    assert second.done
    assert outside(path, "SELECT id FROM items ORDER BY id") == [(1,), (2,), (3,)]


def test_another_thread_waits_for_the_group_and_then_sees_it_committed(path: Path, store: Store):
    group = open_group(store, 1)
    seen: list[Any] = []
    reader = threading.Thread(
        target=lambda: seen.append([r[0] for r in store.query("SELECT id FROM items")])
    )
    reader.start()
    reader.join(0.2)
    assert seen == []  # it waits: the group holds the store until it commits
    store.commit_group(group)
    reader.join(HANG)
    assert seen == [[1]]


def test_a_failed_group_commit_keeps_nothing_and_tells_every_request(path: Path, store: Store):
    log: list[str] = []
    grouped_insert(store, 1, log=log)
    with store.grouped(), store.transaction() as db:
        # A deferred foreign key is checked at COMMIT: the whole group's COMMIT fails.
        db.execute("INSERT INTO children (id, parent) VALUES (1, 99)")
    group = store.group
    assert group is not None
    outcomes: list[bool] = []
    group.when_done(lambda: outcomes.append(group.failed))
    store.commit_group(group)
    assert outcomes == [True] and group.failed
    assert log == ["rolled back 1"]
    assert outside(path, "SELECT COUNT(*) FROM items") == [(0,)]
    # The store goes on working.
    grouped_insert(store, 4, log=log)
    store.commit_group(store.group)  # type: ignore[arg-type]
    assert outside(path, "SELECT id FROM items") == [(4,)]


# --- through the endpoints ------------------------------------------------------------------------


def seed_match(client: Any, players: int) -> list[tuple[str, str]]:
    """One two-team match of ``players`` solo tickets in REQUIRES_ACCEPTANCE."""
    half = players // 2
    client.create_matchmaking_rule_set(Name="rules", RuleSetBody=rule_set_body(("red", half, half), ("blue", half, half)))
    client.create_matchmaking_configuration(
        Name="cfg", RuleSetName="rules", AcceptanceRequired=True, AcceptanceTimeoutSeconds=600,
        RequestTimeoutSeconds=3600, FlexMatchMode="STANDALONE",
    )  # fmt: skip
    pairs = []
    for i in range(players):
        answer = client.start_matchmaking(ConfigurationName="cfg", Players=[{"PlayerId": f"p{i}"}])
        pairs.append((answer["MatchmakingTicket"]["TicketId"], f"p{i}"))
    return pairs


def accept_body(ticket: str, player: str) -> bytes:
    return json.dumps({"TicketId": ticket, "PlayerIds": [player], "AcceptanceType": "ACCEPT"}).encode()


async def accept_at_once(url: str, pairs: list[tuple[str, str]]) -> list[httpx.Response]:
    """AcceptMatch for every (ticket, player), all sent at once over HTTP."""
    headers = {**JSON_HEADERS, "X-Amz-Target": "GameLift.AcceptMatch"}
    async with httpx.AsyncClient(base_url=url, timeout=HANG) as http:
        return list(
            await asyncio.gather(*(http.post("/", content=accept_body(t, p), headers=headers) for t, p in pairs))
        )


async def test_concurrent_accepts_over_http_are_all_answered_and_all_kept(tmp_path: Path):
    db = tmp_path / "emu.db"
    with EmulatorThread(config_for(tmp_path, db=str(db))) as emu:
        client = gamelift(emu.url)
        pairs = seed_match(client, 40)
        advance(emu)
        # All but one player answer at once, so the match stays open and every answer counts.
        answers = await accept_at_once(emu.url, pairs[1:])
        assert [a.status_code for a in answers] == [200] * (len(pairs) - 1)
        # Answered means committed: another connection sees every answer and every event now.
        rows = outside(db, "SELECT player_id FROM fm_ticket_players WHERE answer='ACCEPTED'")
        assert sorted(r[0] for r in rows) == sorted(p for _, p in pairs[1:])
        events = outside(db, "SELECT COUNT(*) FROM events WHERE type=?", (EventType.ACCEPT_MATCH.value,))
        assert events == [(len(pairs) - 1,)]
        described = client.describe_matchmaking(TicketIds=[pairs[0][0]])["TicketList"][0]
        assert described["Status"] == "REQUIRES_ACCEPTANCE"


async def test_a_failed_group_commit_answers_500_and_the_acceptance_can_be_sent_again(tmp_path: Path):
    """The emulator's own store refuses the COMMIT of a group an AcceptMatch joined: that request
    is answered InternalServiceException, nothing of it is kept, and the next try succeeds."""
    db = tmp_path / "emu.db"
    app = create_app(config_for(tmp_path, db=str(db)))
    served = serving_app(app)
    store: Store = app.state.runtime.store
    service = app.state.flexmatch
    store.migrate(
        "group-tests",
        ["CREATE TABLE parents (id INTEGER PRIMARY KEY);"
         " CREATE TABLE children (id INTEGER PRIMARY KEY, parent INTEGER NOT NULL"
         "  REFERENCES parents (id) DEFERRABLE INITIALLY DEFERRED)"],
    )  # fmt: skip
    service.invoke("CreateMatchmakingRuleSet", {"Name": "r", "RuleSetBody": rule_set_body(("red", 1, 1), ("blue", 1, 1))})
    service.invoke(
        "CreateMatchmakingConfiguration",
        {"Name": "c", "RuleSetName": "r", "AcceptanceRequired": True, "AcceptanceTimeoutSeconds": 600,
         "RequestTimeoutSeconds": 3600, "FlexMatchMode": "STANDALONE"},
    )  # fmt: skip
    for i in range(2):
        service.invoke("StartMatchmaking", {"TicketId": f"t{i}", "ConfigurationName": "c", "Players": [{"PlayerId": f"p{i}"}]})
    app.state.runtime.clock.advance(5)
    service.tick(app.state.runtime.clock.timestamp())

    async def accept() -> tuple[int, dict[str, Any]]:
        body = accept_body("t0", "p0")
        scope = {
            "type": "http", "method": "POST", "path": "/", "raw_path": b"/", "query_string": b"",
            "headers": [(b"content-type", b"application/x-amz-json-1.1"), (b"x-amz-target", b"GameLift.AcceptMatch")],
        }  # fmt: skip
        sent: list[dict[str, Any]] = []

        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": body, "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        await asyncio.wait_for(served(scope, receive, send), HANG)
        return sent[0]["status"], json.loads(sent[1]["body"])

    # Another request of the same group wrote something its COMMIT will refuse.
    with store.grouped(), store.transaction() as conn:
        conn.execute("INSERT INTO children (id, parent) VALUES (1, 99)")
    status, answer = await accept()
    assert status == 500 and answer["__type"] == "InternalServiceException"
    assert outside(db, "SELECT answer FROM fm_ticket_players WHERE player_id='p0'") == [(None,)]
    assert outside(db, "SELECT COUNT(*) FROM events WHERE type=?", (EventType.ACCEPT_MATCH.value,)) == [(0,)]
    status, answer = await accept()
    assert (status, answer) == (200, {})
    assert outside(db, "SELECT answer FROM fm_ticket_players WHERE player_id='p0'") == [("ACCEPTED",)]
    assert outside(db, "SELECT COUNT(*) FROM events WHERE type=?", (EventType.ACCEPT_MATCH.value,)) == [(1,)]
    store.close()


async def test_a_match_completed_by_concurrent_accepts_completes_once(tmp_path: Path):
    players = 10
    db = tmp_path / "emu.db"
    with EmulatorThread(config_for(tmp_path, db=str(db))) as emu:
        client = gamelift(emu.url)
        pairs = seed_match(client, players)
        advance(emu)
        answers = await accept_at_once(emu.url, pairs)
        assert [a.status_code for a in answers] == [200] * players
        tickets = client.describe_matchmaking(TicketIds=[t for t, _ in pairs])["TicketList"]
        assert {t["Status"] for t in tickets} == {"COMPLETED"}
        wanted = (EventType.ACCEPT_MATCH, EventType.ACCEPT_MATCH_COMPLETED, EventType.SUCCEEDED)
        kinds = outside(db, "SELECT type, COUNT(*) FROM events WHERE type IN (?, ?, ?) GROUP BY type",
                        tuple(kind.value for kind in wanted))  # fmt: skip
        assert dict(kinds) == {EventType.ACCEPT_MATCH: players, EventType.ACCEPT_MATCH_COMPLETED: 1, EventType.SUCCEEDED: 1}
