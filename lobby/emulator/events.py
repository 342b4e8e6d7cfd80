"""The emulator's persisted, ordered event log and its Server-Sent Events stream.

Every state change of either service appends one event in the same transaction as the change.
Ids come from an AUTOINCREMENT column, so they only grow, even across restarts: a client that
resumes with ``Last-Event-ID`` misses nothing and sees nothing twice.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from typing import Any

from lobby.core.clock import Clock
from lobby.emulator.store import Store

SCHEMA = [
    """
    CREATE TABLE events (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        source TEXT NOT NULL,
        type TEXT NOT NULL,
        time REAL NOT NULL,
        subject TEXT,
        payload TEXT NOT NULL
    );
    CREATE INDEX events_source ON events (source, id);
    CREATE INDEX events_subject ON events (subject, id)
    """,
    # Every append paid for this index, and no reader filters by subject alone.
    "DROP INDEX IF EXISTS events_subject",
]

_INSERT = "INSERT INTO events (source, type, time, subject, payload) VALUES (?, ?, ?, ?, ?)"

#: Sources on the stream.
GAMELIFT = "aws.gamelift"
TEAMBATTLES = "teambattles"


@dataclass(frozen=True, slots=True)
class Event:
    id: int
    source: str
    type: str
    time: float
    subject: str | None
    payload: dict[str, Any]

    def sse(self) -> str:
        data = json.dumps(self.payload, separators=(",", ":"), ensure_ascii=False)
        return f"id: {self.id}\nevent: {self.type}\ndata: {data}\n\n"


class Signal:
    """Wakes every waiter, on any event loop, from any thread."""

    def __init__(self) -> None:
        self._waiters: set[tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]] = set()
        self._lock = threading.Lock()

    def fire(self) -> None:
        if not self._waiters:  # nobody listening (a waiter arriving now waits for the next)
            return
        with self._lock:
            waiters = list(self._waiters)
        for loop, fut in waiters:
            if not loop.is_closed():
                loop.call_soon_threadsafe(_resolve, fut)

    async def wait(self, timeout: float) -> bool:
        """Wait for the next fire; True if it fired, False on timeout."""
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[None] = loop.create_future()
        entry = (loop, fut)
        with self._lock:
            self._waiters.add(entry)
        try:
            await asyncio.wait_for(fut, timeout)
            return True
        except TimeoutError:
            return False
        finally:
            with self._lock:
                self._waiters.discard(entry)


def _resolve(fut: asyncio.Future[None]) -> None:
    if not fut.done():
        fut.set_result(None)


class EventLog:
    def __init__(self, store: Store, clock: Clock) -> None:
        self.store = store
        self.clock = clock
        self.appended = Signal()
        store.migrate("events", SCHEMA)

    def append(
        self, source: str, type: str, payload: dict[str, Any] | str, *, subject: str | None = None
    ) -> int:
        """Append an event inside the caller's transaction; waiters wake once it commits.
        ``payload`` may also be the already-encoded text of a JSON object (hot paths build it
        from templates)."""
        text = payload if isinstance(payload, str) else json.dumps(payload, separators=(",", ":"))
        store = self.store
        with store.transaction() as db:
            cur = db.execute(_INSERT, (source, type, self.clock.timestamp(), subject, text))
            store.after_commit(self.appended.fire)
            return cur.lastrowid or 0

    def since(
        self,
        after_id: int = 0,
        *,
        limit: int = 500,
        sources: Iterable[str] | None = None,
        subject: str | None = None,
    ) -> list[Event]:
        sql = "SELECT id, source, type, time, subject, payload FROM events WHERE id > ?"
        params: list[Any] = [after_id]
        if sources:
            srcs = list(sources)
            sql += f" AND source IN ({','.join('?' * len(srcs))})"
            params += srcs
        if subject is not None:
            sql += " AND subject = ?"
            params.append(subject)
        sql += " ORDER BY id LIMIT ?"
        params.append(limit)
        return [
            Event(r[0], r[1], r[2], r[3], r[4], json.loads(r[5]))
            for r in self.store.query(sql, params)
        ]

    def last_id(self) -> int:
        row = self.store.query_one("SELECT COALESCE(MAX(id), 0) FROM events")
        return int(row[0]) if row else 0

    async def stream(
        self,
        after_id: int,
        *,
        sources: Iterable[str] | None = None,
        keepalive: float = 15.0,
        stopping: threading.Event | None = None,
    ) -> AsyncIterator[str]:
        """SSE text: the backlog after ``after_id``, then live events, with keep-alive comments."""
        srcs = list(sources) if sources else None
        last = after_id
        yield ": stream open\n\n"
        idle = 0.0
        while stopping is None or not stopping.is_set():
            batch = self.since(last, sources=srcs)
            if batch:
                idle = 0.0
                yield "".join(event.sse() for event in batch)
                last = batch[-1].id
                continue
            # Wake at least once a second so a stopping server can end the stream promptly.
            if not await self.appended.wait(1.0):
                idle += 1.0
                if idle >= keepalive:
                    idle = 0.0
                    yield ": keep-alive\n\n"
