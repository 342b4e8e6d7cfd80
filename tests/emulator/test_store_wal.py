"""The store's WAL upkeep: checkpoints run on their own thread and connection, the writer keeps
only a far-off automatic checkpoint as a backstop, and nothing committed is lost either way."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

from lobby.emulator import store as store_module
from lobby.emulator.store import Store

#: Guards against hangs only; nothing asserts on elapsed time.
HANG = 30
PAGE = 4096


def checkpointers() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "lobby-store-checkpoint"]


def fill(store: Store, commits: int, start: int = 0) -> None:
    for i in range(start, start + commits):
        with store.transaction() as db:
            db.execute("INSERT INTO blobs (id, body) VALUES (?, ?)", (i, bytes([i % 251]) * PAGE))


def open_store(path: Path) -> Store:
    store = Store(path)
    store.migrate("blobs", ["CREATE TABLE blobs (id INTEGER PRIMARY KEY, body BLOB NOT NULL)"])
    return store


def test_the_writer_only_checkpoints_as_a_backstop(tmp_path: Path):
    store = open_store(tmp_path / "s.db")
    try:
        (pages,) = store.query_one("PRAGMA wal_autocheckpoint")
        (mode,) = store.query_one("PRAGMA journal_mode")
        (sync,) = store.query_one("PRAGMA synchronous")
        assert pages == store_module.FALLBACK_CHECKPOINT_PAGES > 1000
        assert mode == "wal"
        assert sync == 1  # NORMAL: a commit is in the WAL before COMMIT returns
    finally:
        store.close()


def test_commits_reach_the_database_file_through_the_background_checkpointer(tmp_path: Path):
    path = tmp_path / "s.db"
    store = open_store(path)
    try:
        before = path.stat().st_size
        fill(store, store_module.CHECKPOINT_EVERY)
        # Far below the writer's own threshold: only the background thread copies these pages.
        assert store_module.CHECKPOINT_EVERY * 2 < store_module.FALLBACK_CHECKPOINT_PAGES
        deadline = time.monotonic() + HANG
        while path.stat().st_size < before + store_module.CHECKPOINT_EVERY * PAGE:
            assert time.monotonic() < deadline, "the WAL was never checkpointed"
            time.sleep(0.01)
        assert checkpointers(), "no checkpoint thread ran"
    finally:
        store.close()


def test_close_ends_the_checkpointer_and_keeps_every_commit(tmp_path: Path):
    path = tmp_path / "s.db"
    running = set(checkpointers())
    store = open_store(path)
    fill(store, 3 * store_module.CHECKPOINT_EVERY + 7)
    mine = [t for t in checkpointers() if t not in running]
    store.close()
    assert mine and not any(t.is_alive() for t in mine)
    with sqlite3.connect(path) as check:
        rows = check.execute("SELECT id, body FROM blobs ORDER BY id").fetchall()
    assert [r[0] for r in rows] == list(range(3 * store_module.CHECKPOINT_EVERY + 7))
    assert all(body == bytes([i % 251]) * PAGE for i, body in rows)


def test_writes_go_on_while_a_checkpoint_runs_and_a_reopened_store_sees_them(tmp_path: Path):
    path = tmp_path / "s.db"
    store = open_store(path)
    try:
        # Several checkpoints get asked for while commits keep coming.
        fill(store, 5 * store_module.CHECKPOINT_EVERY)
        (count,) = store.query_one("SELECT COUNT(*) FROM blobs")
        assert count == 5 * store_module.CHECKPOINT_EVERY
    finally:
        store.close()
    again = open_store(path)
    try:
        fill(again, 1, start=5 * store_module.CHECKPOINT_EVERY)
        (count,) = again.query_one("SELECT COUNT(*) FROM blobs")
        assert count == 5 * store_module.CHECKPOINT_EVERY + 1
    finally:
        again.close()


def test_an_in_memory_store_has_no_checkpointer():
    running = set(checkpointers())
    store = Store(":memory:")
    try:
        store.migrate("blobs", ["CREATE TABLE blobs (id INTEGER PRIMARY KEY, body BLOB NOT NULL)"])
        fill(store, store_module.CHECKPOINT_EVERY + 1)
        assert set(checkpointers()) <= running
    finally:
        store.close()
