"""The store of my match requests and the status derived for each from its match."""

from __future__ import annotations

import asyncio
import sqlite3
import stat
from datetime import UTC, datetime
from pathlib import Path

import pytest

from lobby import paths
from lobby.core.backend import MyRequest
from lobby.teambattles import wire as m
from lobby.teambattles.request_book import MyRequests
from lobby.teambattles.requests import (
    FILE_NAME,
    AcceptanceRecord,
    RequestStore,
    derive_status,
)
from lobby.teambattles.vocab import AcceptanceStatus as S

T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


def match(status: str = "PENDING", accepted: str | None = None) -> m.MatchDetail:
    team = lambda i: {"id": i, "name": f"Team {i}", "tag": i.upper()}  # noqa: E731
    return m.MatchDetail.model_validate(
        {
            "id": "mt_1", "status": status, "publishStatus": "PUBLISHED",
            "game": {"id": "g", "nameKey": "G"}, "gameMode": "hp",
            "creatorTeam": team("c"), "acceptedTeam": team(accepted) if accepted else None,
            "bestOf": 1, "teamSize": 2, "selectedMaps": [], "selectedObjectives": [],
            "winnerTeamId": None, "scheduledAt": None, "startedAt": None, "completedAt": None,
            "createdAt": None,
        }
    )


@pytest.mark.parametrize(
    ("known", "status", "accepted", "expected"),
    [
        (S.PENDING, "PENDING", None, S.PENDING),
        (S.PENDING, "ACCEPTED", "mine", S.APPROVED),
        (S.PENDING, "IN_PROGRESS", "mine", S.APPROVED),
        (S.PENDING, "ACCEPTED", "other", S.SUPERSEDED),
        (S.PENDING, "CANCELLED", None, S.CANCELLED),
        (S.APPROVED, "CANCELLED", "mine", S.CANCELLED),
        (S.DECLINED, "ACCEPTED", "other", S.DECLINED),
        (S.DECLINED, "PENDING", None, S.DECLINED),
        (S.SUPERSEDED, "CANCELLED", "other", S.SUPERSEDED),
    ],
)
def test_status_derivation(known: S, status: str, accepted: str | None, expected: S) -> None:
    assert derive_status("mine", known, match(status, accepted))[0] is expected


def record(acceptance_id: str = "acc_1", team: str = "t1") -> AcceptanceRecord:
    return AcceptanceRecord(
        acceptance_id=acceptance_id, match_id="mt_1", team_id=team,
        payload={"teamId": team, "activeRoster": ["u1"]}, submitted_at=T0, idempotency_key="k1",
    )


def test_records_survive_a_restart_and_are_kept_once() -> None:
    RequestStore("live").add(record())
    RequestStore("live").add(record())  # a replayed submission answers the same id
    again = RequestStore("live")
    [kept] = again.all()
    assert kept.acceptance_id == "acc_1" and kept.idempotency_key == "k1"
    assert kept.payload == {"teamId": "t1", "activeRoster": ["u1"]} and kept.submitted_at == T0
    assert kept.status is S.PENDING and again.pending_team_ids("mt_1") == {"t1"}
    path = paths.state_dir() / FILE_NAME
    assert path.exists() and stat.S_IMODE(path.stat().st_mode) == 0o600


def test_profiles_do_not_mix(tmp_path: Path) -> None:
    RequestStore("emulator", tmp_path / "r.sqlite3").add(record())
    assert RequestStore("live", tmp_path / "r.sqlite3").all() == []


def test_settled_statuses_stay(tmp_path: Path) -> None:
    store = RequestStore("p", tmp_path / "r.sqlite3")
    store.add(record())
    assert store.set_status("acc_1", S.DECLINED, "The creator declined it.")
    assert not store.set_status("acc_1", S.PENDING)
    assert not store.set_status("acc_1", S.DECLINED)
    got = store.get("acc_1")
    assert got is not None and got.status is S.DECLINED and got.note == "The creator declined it."
    assert store.pending_team_ids("mt_1") == frozenset()
    assert not store.set_status("acc_unknown", S.APPROVED)
    assert got.as_json()["status"] == "declined"


# --- the book the running backend keeps ------------------------------------------------------------


async def test_the_book_answers_from_memory_and_pushes_each_change(tmp_path: Path) -> None:
    RequestStore("p", tmp_path / "r.sqlite3").add(record("acc_0"))
    book = MyRequests(RequestStore("p", tmp_path / "r.sqlite3"))
    pushed: list[MyRequest] = []
    book.subscribe(pushed.append)
    assert book.current() == []  # nothing read yet, and reading is not done here
    await book.load()
    assert [r.acceptance_id for r in book.current()] == ["acc_0"] and len(pushed) == 1

    await book.add(record("acc_1", team="t2"))
    assert [p.acceptance_id for p in pushed] == ["acc_0", "acc_1"]
    assert book.pending_team_ids("mt_1") == {"t1", "t2"}
    assert {r.acceptance_id for r in RequestStore("p", tmp_path / "r.sqlite3").all()} == {"acc_0", "acc_1"}

    assert book.set_status("acc_1", S.DECLINED, "The creator declined it.", T0)
    assert not book.set_status("acc_1", S.PENDING, None, T0)  # settled
    assert (pushed[-1].acceptance_id, pushed[-1].status) == ("acc_1", S.DECLINED) and len(pushed) == 3
    await book.aclose()
    stored = RequestStore("p", tmp_path / "r.sqlite3").get("acc_1")
    assert stored is not None and stored.status is S.DECLINED and stored.note == "The creator declined it."


async def test_a_book_read_ahead_in_a_worker_thread_loads_at_once(tmp_path: Path) -> None:
    """The console reads the stored requests in the thread that builds the backend: the first
    listing's load() then has nothing left to read."""
    RequestStore("p", tmp_path / "r.sqlite3").add(record("acc_0"))
    book = MyRequests(RequestStore("p", tmp_path / "r.sqlite3"))
    await asyncio.to_thread(book.read_stored)
    RequestStore("p", tmp_path / "r.sqlite3").add(record("acc_9", team="t9"))  # stored after
    pushed: list[MyRequest] = []
    book.subscribe(pushed.append)
    await book.load()
    assert [r.acceptance_id for r in book.current()] == ["acc_0"] and pushed == []
    await book.add(record("acc_1", team="t2"))  # writing still goes through the store
    await book.aclose()
    assert {r.acceptance_id for r in RequestStore("p", tmp_path / "r.sqlite3").all()} == {"acc_0", "acc_1", "acc_9"}


async def test_a_subscriber_that_left_hears_nothing(tmp_path: Path) -> None:
    book = MyRequests(RequestStore("p", tmp_path / "r.sqlite3"))
    pushed: list[MyRequest] = []
    stop = book.subscribe(pushed.append)
    await book.add(record("acc_1"))
    stop()
    book.set_status("acc_1", S.CANCELLED, None, T0)
    await book.aclose()
    assert [p.status for p in pushed] == [S.PENDING]


def test_reading_never_waits_for_a_writer(tmp_path: Path) -> None:
    store = RequestStore("p", tmp_path / "r.sqlite3")
    store.add(record())
    writer = sqlite3.connect(tmp_path / "r.sqlite3", isolation_level=None)
    try:
        writer.execute("BEGIN IMMEDIATE")  # another process in the middle of a write
        writer.execute("UPDATE acceptances SET note = 'half done'")
        # Read at once from the last committed state; waiting for the lock would fail the test
        # ("database is locked") rather than return.
        [kept] = RequestStore("p", tmp_path / "r.sqlite3").all()
        assert kept.note is None
    finally:
        writer.execute("ROLLBACK")
        writer.close()
