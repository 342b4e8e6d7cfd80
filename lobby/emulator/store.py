"""SQLite persistence for every piece of emulator state.

One connection, guarded by a lock, used from the server's event loop (and from tests' threads).
WAL journaling with synchronous=NORMAL: a committed transaction survives a killed process.
Each component declares its schema as an ordered list of migrations, applied once.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any


class Store:
    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._conn.row_factory = sqlite3.Row
        self._lock = threading.RLock()
        self._depth = 0
        self._after_commit: list[Callable[[], None]] = []
        self._after_rollback: list[Callable[[], None]] = []
        self._transaction = _Transaction(self)
        with self._lock:
            if self.path != ":memory:":
                self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=NORMAL")
            self._conn.execute("PRAGMA foreign_keys=ON")
            self._conn.execute("PRAGMA busy_timeout=5000")
            self._conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations ("
                " component TEXT NOT NULL, version INTEGER NOT NULL,"
                " PRIMARY KEY (component, version))"
            )
            self._conn.execute(
                "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)"
            )

    # --- schema --------------------------------------------------------------------------------

    def migrate(self, component: str, migrations: Sequence[str]) -> None:
        """Apply the not-yet-applied migrations of ``component``; each is a SQL script."""
        with self.transaction() as db:
            done = {
                r[0]
                for r in db.execute(
                    "SELECT version FROM schema_migrations WHERE component=?", (component,)
                )
            }
            for version, script in enumerate(migrations, start=1):
                if version in done:
                    continue
                for statement in (s.strip() for s in script.split(";")):
                    if statement:
                        db.execute(statement)
                db.execute(
                    "INSERT INTO schema_migrations (component, version) VALUES (?, ?)",
                    (component, version),
                )

    # --- transactions --------------------------------------------------------------------------

    def transaction(self) -> _Transaction:
        """A write transaction (BEGIN IMMEDIATE), used as ``with store.transaction() as db``.
        Nested uses join the outer one; it commits when the outermost ends without an error
        and rolls back otherwise."""
        return self._transaction

    def after_commit(self, callback: Callable[[], None]) -> None:
        """Run ``callback`` once the current transaction commits (now, if there is none)."""
        with self._lock:
            if self._depth:
                self._after_commit.append(callback)
                return
        callback()

    def after_rollback(self, callback: Callable[[], None]) -> None:
        """Run ``callback`` if the current transaction rolls back (never, if there is none):
        how in-memory mirrors of the database forget what the database did not keep."""
        with self._lock:
            if self._depth:
                self._after_rollback.append(callback)

    def _begin(self) -> sqlite3.Connection:
        self._lock.acquire()
        if self._depth == 0:
            try:
                self._conn.execute("BEGIN IMMEDIATE")
            except BaseException:
                self._lock.release()
                raise
        self._depth += 1
        return self._conn

    def _end(self, failed: bool) -> None:
        try:
            self._depth -= 1
            if self._depth:
                return
            if not failed:
                try:
                    self._conn.execute("COMMIT")
                except BaseException:
                    self._rolled_back()
                    raise
                self._after_rollback.clear()
                callbacks, self._after_commit = self._after_commit, []
                for callback in callbacks:
                    callback()
            else:
                self._rolled_back()
        finally:
            self._lock.release()

    def _rolled_back(self) -> None:
        try:
            if self._conn.in_transaction:
                self._conn.execute("ROLLBACK")
        finally:
            self._after_commit.clear()
            callbacks, self._after_rollback = self._after_rollback, []
            for callback in callbacks:
                callback()

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        with self._lock:
            return self._conn.execute(sql, params).fetchall()

    def query_one(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Row | None:
        with self._lock:
            return self._conn.execute(sql, params).fetchone()

    # --- small key/value metadata --------------------------------------------------------------

    def get_meta(self, key: str) -> Any:
        row = self.query_one("SELECT value FROM meta WHERE key=?", (key,))
        return None if row is None else json.loads(row[0])

    def set_meta(self, key: str, value: Any) -> None:
        with self.transaction() as db:
            db.execute(
                "INSERT INTO meta (key, value) VALUES (?, ?)"
                " ON CONFLICT(key) DO UPDATE SET value=excluded.value",
                (key, json.dumps(value)),
            )

    def close(self) -> None:
        with self._lock:
            self._conn.close()


class _Transaction:
    """The context manager of :meth:`Store.transaction` (a plain class: it is entered on every
    request, and a generator-based one costs several times more)."""

    __slots__ = ("_store",)

    def __init__(self, store: Store) -> None:
        self._store = store

    def __enter__(self) -> sqlite3.Connection:
        return self._store._begin()

    def __exit__(self, exc_type: type[BaseException] | None, exc: object, tb: object) -> bool:
        self._store._end(exc_type is not None)
        return False
