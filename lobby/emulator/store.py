"""SQLite persistence for every piece of emulator state.

One connection, guarded by a lock, used from the server's event loop (and from tests' threads).
WAL journaling with synchronous=NORMAL: a committed transaction survives a killed process.
Checkpoints (copying the WAL back into the database file, with its fsyncs) run on a thread of
their own, off the path of the requests. Each component declares its schema as an ordered list
of migrations, applied once.

Group commit: requests served on the event loop may run inside :meth:`Store.grouped`. Their
transactions are then savepoints of one shared transaction (a :class:`CommitGroup`), committed
once by :meth:`Store.commit_group` when the loop gets to it, so requests that arrive together
share one COMMIT. A request answers only once its group has committed (so what was answered
200 is in the WAL, as before). Whatever else touches the store while a group is open (another
request outside ``grouped``, the scheduler, an event stream, another thread) commits the group
first, so nobody ever reads or builds on what is not committed yet.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

log = logging.getLogger("lobby.emulator.store")

#: Commits between two checkpoints asked of the background checkpointer.
CHECKPOINT_EVERY = 100
#: WAL pages past which the writing connection checkpoints by itself: a backstop for a load so
#: steady that the background checkpoints never catch up with the end of the WAL (SQLite can
#: only start the WAL over once all of it is back in the database file).
FALLBACK_CHECKPOINT_PAGES = 16384
#: What a WAL that grew under load is cut back to once it starts over.
WAL_SIZE_LIMIT = 64 * 1024 * 1024


class Store:
    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._conn.row_factory = sqlite3.Row
        self._lock = threading.RLock()
        self._depth = 0
        self._after_commit: list[Callable[[], object]] = []
        self._after_rollback: list[Callable[[], object]] = []
        self._transaction = _Transaction(self)
        #: The open group transaction (it holds the lock once more until it commits), the
        #: thread running a grouped request now (0: none), whether the current outermost
        #: transaction is a savepoint of the group, and the callback counts when it began.
        self._group: CommitGroup | None = None
        self._grouping = 0
        self._savepoint = False
        self._marks = (0, 0)
        self._checkpointer: _Checkpointer | None = None
        self._commits = 0
        with self._lock:
            if self.path != ":memory:":
                mode = self._conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
                if str(mode).lower() == "wal":
                    self._conn.execute(f"PRAGMA wal_autocheckpoint={FALLBACK_CHECKPOINT_PAGES}")
                    self._conn.execute(f"PRAGMA journal_size_limit={WAL_SIZE_LIMIT}")
                    self._checkpointer = _Checkpointer(self.path)
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

    def grouped(self) -> _Grouped:
        """Run the transactions of one request (on this thread, within the ``with``) as
        savepoints of the open group transaction; see :class:`CommitGroup`."""
        return _Grouped(self)

    @property
    def group(self) -> CommitGroup | None:
        """The group transaction not committed yet, if any."""
        return self._group

    def commit_group(self, group: CommitGroup) -> None:
        """Commit ``group`` if it is still open (nothing to do if something committed it)."""
        with self._lock:
            if self._group is group and not self._depth:
                self._flush()

    def _flush(self) -> None:
        """Commit the open group (the lock is held), then tell its requests how it went."""
        group = self._group
        assert group is not None
        self._group = None
        failed = False
        try:
            try:
                self._conn.execute("COMMIT")
            except BaseException:
                failed = True
                log.exception("a group commit failed; its requests are answered with an error")
                self._rolled_back()
            else:
                self._committed()
        finally:
            self._lock.release()  # the group's own hold
            group._finish(failed)

    def after_commit(self, callback: Callable[[], object]) -> None:
        """Run ``callback`` once the current transaction commits (now, if there is none; in a
        grouped request, once the open group commits)."""
        with self._lock:
            if self._depth or (self._group is not None and self._grouping == threading.get_ident()):
                self._after_commit.append(callback)
                return
        callback()

    def after_rollback(self, callback: Callable[[], object]) -> None:
        """Run ``callback`` if the current transaction rolls back (never, if there is none):
        how in-memory mirrors of the database forget what the database did not keep."""
        with self._lock:
            if self._depth:
                self._after_rollback.append(callback)

    def _begin(self) -> sqlite3.Connection:
        self._lock.acquire()
        if self._depth == 0:
            try:
                if self._grouping and self._grouping == threading.get_ident():
                    if self._group is None:
                        self._conn.execute("BEGIN IMMEDIATE")
                        self._lock.acquire()  # held by the group until it commits
                        self._group = CommitGroup()
                    self._conn.execute("SAVEPOINT grouped")
                    self._savepoint = True
                    self._marks = (len(self._after_commit), len(self._after_rollback))
                else:
                    if self._group is not None:
                        self._flush()
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
            if self._savepoint:
                self._savepoint = False
                self._end_savepoint(failed)
            elif not failed:
                try:
                    self._conn.execute("COMMIT")
                except BaseException:
                    self._rolled_back()
                    raise
                self._committed()
            else:
                self._rolled_back()
        finally:
            self._lock.release()

    def _committed(self) -> None:
        self._after_rollback.clear()
        if self._checkpointer is not None:
            self._commits += 1
            if self._commits >= CHECKPOINT_EVERY:
                self._commits = 0
                self._checkpointer.request()
        callbacks, self._after_commit = self._after_commit, []
        for callback in callbacks:
            callback()

    def _end_savepoint(self, failed: bool) -> None:
        """End a grouped request's transaction: keep it in the group, or undo just it (and
        run just its after-rollback callbacks)."""
        if not failed:
            self._conn.execute("RELEASE grouped")
            return
        commit_mark, rollback_mark = self._marks
        undone = self._after_rollback[rollback_mark:]
        del self._after_commit[commit_mark:]
        del self._after_rollback[rollback_mark:]
        try:
            self._conn.execute("ROLLBACK TO grouped")
            self._conn.execute("RELEASE grouped")
        except BaseException:
            # The group's transaction is in doubt: give it up entirely.
            group, self._group = self._group, None
            self._rolled_back()
            if group is not None:
                self._lock.release()
                group._finish(True)
            raise
        finally:
            for callback in undone:
                callback()

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
            if self._group is not None and self._grouping != threading.get_ident():
                self._flush()
            return self._conn.execute(sql, params).fetchall()

    def query_one(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Row | None:
        with self._lock:
            if self._group is not None and self._grouping != threading.get_ident():
                self._flush()
            row: sqlite3.Row | None = self._conn.execute(sql, params).fetchone()
            return row

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
        if self._checkpointer is not None:
            self._checkpointer.close()
        # A group left open by an event loop that is gone would hold the lock forever.
        held = self._lock.acquire(timeout=10)
        try:
            if held and self._group is not None:
                self._flush()
            self._conn.close()
        finally:
            if held:
                self._lock.release()


class CommitGroup:
    """One transaction shared by the requests that ran (in :meth:`Store.grouped`) while it was
    open. It ends with one COMMIT; ``failed`` says whether that commit failed (then none of its
    requests' changes were kept)."""

    __slots__ = ("done", "failed", "scheduled", "_listeners")

    def __init__(self) -> None:
        self.done = False
        self.failed = False
        #: Set by whoever arranged for :meth:`Store.commit_group` to be called.
        self.scheduled = False
        self._listeners: list[Callable[[], None]] = []

    def when_done(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` once the group has committed or failed (now, if it has)."""
        if self.done:
            callback()
        else:
            self._listeners.append(callback)

    def _finish(self, failed: bool) -> None:
        self.done = True
        self.failed = failed
        listeners, self._listeners = self._listeners, []
        for callback in listeners:
            callback()


class _Grouped:
    __slots__ = ("_store", "_outer")

    def __init__(self, store: Store) -> None:
        self._store = store
        self._outer = 0

    def __enter__(self) -> None:
        self._outer = self._store._grouping
        self._store._grouping = threading.get_ident()

    def __exit__(self, exc_type: type[BaseException] | None, exc: object, tb: object) -> None:
        self._store._grouping = self._outer


class _Checkpointer:
    """Copies the WAL back into the database file, on its own thread and connection.

    SQLite's automatic checkpoint runs inside the COMMIT that crosses its threshold, on the
    writer's thread, so its copy and fsyncs would stall every request queued behind that one.
    Here the writer only counts commits and wakes this thread, whose PASSIVE checkpoint never
    blocks the writer: it copies what was committed when it started, while new commits go on
    being appended to the WAL. Durability does not depend on it: a transaction is in the WAL
    before COMMIT returns. The thread starts on the first request and ends after a quiet spell.
    """

    IDLE_SECONDS = 30.0

    def __init__(self, path: str) -> None:
        self.path = path
        self._wanted = threading.Event()
        self._guard = threading.Lock()
        self._thread: threading.Thread | None = None
        self._closing = False

    def request(self) -> None:
        self._wanted.set()
        if self._thread is not None:
            return
        with self._guard:
            if self._thread is None and not self._closing:
                self._thread = threading.Thread(
                    target=self._run, name="lobby-store-checkpoint", daemon=True
                )
                self._thread.start()

    def _run(self) -> None:
        conn: sqlite3.Connection | None = None
        try:
            conn = sqlite3.connect(self.path, isolation_level=None)
            conn.execute("PRAGMA busy_timeout=1000")
            while True:
                if not self._wanted.wait(self.IDLE_SECONDS):
                    with self._guard:
                        if not self._wanted.is_set():
                            self._thread = None
                            return
                self._wanted.clear()
                if self._closing:
                    return
                try:
                    conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                except sqlite3.Error as exc:  # the next request tries again
                    log.warning("WAL checkpoint failed: %s", exc)
        except sqlite3.Error as exc:
            log.warning("the WAL checkpointer could not open the database: %s", exc)
        finally:
            if conn is not None:
                conn.close()
            with self._guard:
                if self._thread is threading.current_thread():
                    self._thread = None

    def close(self) -> None:
        with self._guard:
            self._closing = True
            thread = self._thread
        self._wanted.set()
        if thread is not None and thread is not threading.current_thread():
            thread.join(10)


class _Transaction:
    """The context manager of :meth:`Store.transaction` (a plain class: it is entered on every
    request, and a generator-based one costs several times more)."""

    __slots__ = ("_store",)

    def __init__(self, store: Store) -> None:
        self._store = store

    def __enter__(self) -> sqlite3.Connection:
        return self._store._begin()

    def __exit__(self, exc_type: type[BaseException] | None, exc: object, tb: object) -> None:
        self._store._end(exc_type is not None)
