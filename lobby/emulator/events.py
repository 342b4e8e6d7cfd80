"""The emulator's persisted, ordered event log and its Server-Sent Events stream.

Every state change of either service appends one event in the same transaction as the change.
Ids come from an AUTOINCREMENT column, so they only grow, even across restarts: a client that
resumes with ``Last-Event-ID`` misses nothing and sees nothing twice.

Ids count within one database. Each database is an *instance*, named by a random id made when
the database is created and kept in it: the health check and every stream answer
(``X-Emulator-Instance``, :data:`~lobby.core.events.INSTANCE_HEADER`) name it. A client that resumes with ``X-Emulator-Instance`` set to
another instance's id (the emulator restarted on a fresh database) gets the stream from its
first event: its ``Last-Event-ID`` counted somebody else's events.

Many watchers cost little: the events appended since the last look are read from the database
once, into a shared window of recent events; only a stream resuming from further back than the
window reads its backlog from the database. Once caught up, a stream is fed by one task per event
loop (:class:`_Fanout`), which lets commits gather, makes each batch's bytes once and writes them
to every live stream, straight to its connection where the server allows it
(:class:`~lobby.emulator.guard.DirectChunks`).
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import uuid
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from lobby.core.clock import Clock
from lobby.emulator.store import Store

_log = logging.getLogger("lobby.emulator.events")

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

_INSTANCE_META = "events.instance"
#: The largest event id a client may name (SQLite's INTEGER is 64-bit, signed).
MAX_EVENT_ID = 2**63 - 1
#: How many recent events the shared window keeps for the live streams.
WINDOW = 4096
#: The most events a stream is sent in one write.
PAGE = 500
#: How many live streams the fan-out writes to before it lets waiting requests run.
SLICE = 100
#: How long the live streams let events gather after a write before they are written to
#: again, per open stream (so one watcher waits 2 ms, 500 of them a second), and at most. Each
#: round costs a write per watcher whatever it carries: this keeps the writes to a few hundred
#: a second however many watch, while a handful of watchers hear of a change at once.
GATHER_PER_STREAM = 0.002
GATHER_MAX = 1.0


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


class _Shared:
    """An event of the shared window, with its SSE text made once for every stream."""

    __slots__ = ("event", "id", "source", "text")

    def __init__(self, event: Event) -> None:
        self.event = event
        self.id = event.id
        self.source = event.source
        self.text = event.sse()


class Signal:
    """Wakes every waiter, on any event loop, from any thread: one callback per event loop,
    however many wait on it."""

    def __init__(self) -> None:
        self._waiters: dict[asyncio.AbstractEventLoop, set[asyncio.Future[None]]] = {}
        self._lock = threading.Lock()

    def fire(self) -> None:
        if not self._waiters:  # nobody listening (a waiter arriving now waits for the next)
            return
        with self._lock:
            waiters = [(loop, list(futs)) for loop, futs in self._waiters.items() if futs]
        try:
            running: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        for loop, futs in waiters:
            if loop is running:
                loop.call_soon(_resolve_all, futs)
            elif not loop.is_closed():
                loop.call_soon_threadsafe(_resolve_all, futs)

    async def wait(self, timeout: float) -> bool:
        """Wait for the next fire; True if it fired, False on timeout."""
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[None] = loop.create_future()
        with self._lock:
            self._waiters.setdefault(loop, set()).add(fut)
        try:
            await asyncio.wait_for(fut, timeout)
            return True
        except TimeoutError:
            return False
        finally:
            with self._lock:
                futs = self._waiters.get(loop)
                if futs is not None:
                    futs.discard(fut)
                    if not futs:
                        del self._waiters[loop]


def _resolve_all(futs: list[asyncio.Future[None]]) -> None:
    for fut in futs:
        if not fut.done():
            fut.set_result(None)


#: Which events a stream may show (all when None).
Visible = Callable[["Event"], bool]


class EventLog:
    def __init__(self, store: Store, clock: Clock) -> None:
        self.store = store
        self.clock = clock
        self.appended = Signal()
        store.migrate("events", SCHEMA)
        instance = store.get_meta(_INSTANCE_META)
        if not isinstance(instance, str):
            instance = uuid.uuid4().hex
            store.set_meta(_INSTANCE_META, instance)
        #: The database instance: made with the database, kept across restarts on it.
        self.instance: str = instance
        # The shared window: every event with an id in (floor, top], oldest first.
        self._window: deque[_Shared] = deque(maxlen=WINDOW)
        self._top = self._floor = self.last_id()
        self._fired = 0  # commits announced
        self._seen = 0  # commits the window has caught up with
        self._window_lock = threading.Lock()
        #: Streams open now.
        self.streams = 0
        self._fanouts: dict[asyncio.AbstractEventLoop, _Fanout] = {}

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
            store.after_commit(self._committed)
            return cur.lastrowid or 0

    def _committed(self) -> None:
        self._fired += 1
        self.appended.fire()

    @property
    def fired(self) -> int:
        """Commits with events so far (a waiter compares it before and after looking)."""
        return self._fired

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

    def _catch_up(self) -> None:
        """Bring the shared window up to the newest commit: one read, however many streams."""
        if self._seen == self._fired:
            return
        with self._window_lock:
            while self._seen != self._fired:
                fired = self._fired
                while True:
                    batch = self.since(self._top, limit=WINDOW)
                    for event in batch:
                        if len(self._window) == self._window.maxlen:
                            self._floor = self._window[0].id
                        self._window.append(_Shared(event))
                    if batch:
                        self._top = batch[-1].id
                    if len(batch) < WINDOW:
                        break
                self._seen = fired

    def _next(self, after_id: int, sources: list[str] | None, limit: int = PAGE) -> list[_Shared]:
        """The events after ``after_id``: from the shared window when it reaches back that far,
        else (a stream resuming from long ago) from the database."""
        self._catch_up()
        with self._window_lock:
            if after_id >= self._floor:
                if after_id >= self._top:
                    return []
                found: list[_Shared] = []
                for shared in reversed(self._window):
                    if shared.id <= after_id:
                        break
                    if sources is None or shared.source in sources:
                        found.append(shared)
                found.reverse()
                return found[:limit]
        return [_Shared(event) for event in self.since(after_id, sources=sources, limit=limit)]

    async def stream(
        self,
        after_id: int,
        *,
        sources: Iterable[str] | None = None,
        keepalive: float = 15.0,
        stopping: threading.Event | None = None,
        visible: Visible | None = None,
        connection: Connection | None = None,
    ) -> AsyncIterator[str | bytes]:
        """SSE text: the backlog after ``after_id``, then live events, with keep-alive comments.
        With ``visible``, only the events it passes are sent (the others are still passed over).

        The backlog is this stream's own to send. Live events come from the loop's
        :class:`_Fanout`, which writes each batch to every live stream at once: straight to
        ``connection`` when given (the stream then only waits for its end here), else through
        this generator."""
        srcs = list(sources) if sources else None
        last = after_id
        yield ": stream open\n\n"
        self.streams += 1
        try:
            while stopping is None or not stopping.is_set():
                batch = self._next(last, srcs)
                if not batch:
                    break
                last = batch[-1].id
                shown = batch if visible is None else [e for e in batch if visible(e.event)]
                if shown:
                    yield "".join(shared.text for shared in shown)
                if len(batch) < PAGE:
                    break
            else:
                return
            watcher = _Watcher(last, srcs, visible, connection, keepalive, stopping)
            fanout = self._fanout()
            fanout.add(watcher)
            try:
                while not watcher.closed:
                    await watcher.wake.wait()
                    watcher.wake.clear()
                    if watcher.pending:
                        chunks, watcher.pending = watcher.pending, []
                        yield b"".join(chunks)
            finally:
                fanout.discard(watcher)
        finally:
            self.streams -= 1

    @property
    def live_streams(self) -> int:
        """Streams caught up with the log, fed by the fan-out now."""
        return sum(len(fanout.watchers) for fanout in list(self._fanouts.values()))

    def _fanout(self) -> _Fanout:
        loop = asyncio.get_running_loop()
        fanout = self._fanouts.get(loop)
        if fanout is None or fanout.loop.is_closed():
            fanout = self._fanouts[loop] = _Fanout(self, loop)
        return fanout


class Connection(Protocol):
    """Where a live stream's chunks may be written directly (the server's connection)."""

    @property
    def open(self) -> bool: ...

    def write(self, data: bytes) -> bool:
        """Write one chunk of the answer's body; False if the connection is gone (or given up)."""
        ...


KEEPALIVE_TEXT = b": keep-alive\n\n"


class _Watcher:
    """A live stream, fed by its loop's fan-out."""

    __slots__ = (
        "closed", "connection", "key", "keepalive", "last", "pending", "quiet_since", "sources",
        "stopping", "visible", "wake",
    )  # fmt: skip

    def __init__(
        self,
        last: int,
        sources: list[str] | None,
        visible: Visible | None,
        connection: Connection | None,
        keepalive: float,
        stopping: threading.Event | None,
    ) -> None:
        self.last = last
        self.sources = sources
        self.visible = visible
        #: Watchers with the same key at the same position are sent the same bytes.
        self.key = (tuple(sources) if sources else None, visible)
        self.connection = connection
        self.keepalive = keepalive
        self.stopping = stopping
        self.pending: list[bytes] = []
        self.wake = asyncio.Event()
        self.closed = False
        self.quiet_since = 0.0

    def send(self, data: bytes, now: float) -> None:
        self.quiet_since = now
        if self.connection is None:
            self.pending.append(data)
            self.wake.set()
        elif not self.connection.write(data):
            self.close()

    def close(self) -> None:
        self.closed = True
        self.wake.set()


class _Fanout:
    """Every live stream of one event loop, fed by one task: after a commit it lets more
    gather, reads the new events once, makes each distinct batch's bytes once (per filter and
    position), and hands them to every stream, written straight to the connection where it
    can be. So a watcher costs one write per batch, not a task waking, a look at the window and
    a trip through the server's send chain; and the wait is the same one timer for all of
    them. Once a second it also sends keep-alives to quiet streams and ends them when the
    server stops."""

    def __init__(self, log: EventLog, loop: asyncio.AbstractEventLoop) -> None:
        self.log = log
        self.loop = loop
        self.watchers: set[_Watcher] = set()
        self.task: asyncio.Task[None] | None = None
        self._ticked = loop.time()

    def add(self, watcher: _Watcher) -> None:
        watcher.quiet_since = self.loop.time()
        self.watchers.add(watcher)
        if self.task is None or self.task.done():
            self.task = self.loop.create_task(self._run(), name="emulator-event-fanout")

    def discard(self, watcher: _Watcher) -> None:
        self.watchers.discard(watcher)

    async def _run(self) -> None:
        log = self.log
        try:
            while self.watchers:
                fired = log.fired
                sent, behind = await self._deliver()
                if behind:
                    await asyncio.sleep(0)  # a page for streams far behind: let requests run between
                elif sent:
                    # Let more commits gather before the next write, so that with many watchers a
                    # busy server writes to each a few times a second, not once per commit.
                    await asyncio.sleep(min(GATHER_MAX, GATHER_PER_STREAM * len(self.watchers)))
                elif log.fired == fired:
                    await log.appended.wait(1.0)
                if self.loop.time() - self._ticked >= 1.0:
                    self._tick()
        except Exception:  # the streams end (their clients resume) rather than hang unfed
            _log.exception("the event stream's fan-out failed; closing the live streams")
        finally:
            for watcher in list(self.watchers):
                watcher.close()
            self.watchers.clear()

    async def _deliver(self) -> tuple[bool, bool]:
        """One batch to every watcher behind the newest event: (any sent, any still behind).
        Requests are let in every :data:`SLICE` watchers, so many watchers never hold them up
        for a whole round of writes."""
        made: dict[tuple[int, object], tuple[bytes | None, int, bool]] = {}
        sent = behind = False
        now = self.loop.time()
        for n, watcher in enumerate(list(self.watchers), 1):
            if n % SLICE == 0:
                await asyncio.sleep(0)
            key = (watcher.last, watcher.key)
            found = made.get(key)
            if found is None:
                batch = self.log._next(watcher.last, watcher.sources)
                if batch:
                    visible = watcher.visible
                    shown = batch if visible is None else [e for e in batch if visible(e.event)]
                    data = "".join(shared.text for shared in shown).encode() if shown else None
                    found = (data, batch[-1].id, len(batch) >= PAGE)
                else:
                    found = (None, watcher.last, False)
                made[key] = found
            data, last, more = found
            if last != watcher.last:
                watcher.last = last
                sent = True
                behind = behind or more
                if data is not None:
                    watcher.send(data, now)
            if watcher.closed:
                self.watchers.discard(watcher)
        return sent, behind

    def _tick(self) -> None:
        now = self._ticked = self.loop.time()
        for watcher in list(self.watchers):
            if watcher.stopping is not None and watcher.stopping.is_set():
                watcher.close()
            elif watcher.connection is not None and not watcher.connection.open:
                watcher.close()
            elif now - watcher.quiet_since >= watcher.keepalive:
                watcher.send(KEEPALIVE_TEXT, now)
            if watcher.closed:
                self.watchers.discard(watcher)
