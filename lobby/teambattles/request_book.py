"""My requests while the backend runs: kept in memory, pushed to subscribers, saved off the loop.

:class:`MyRequests` is the backend's :class:`lobby.core.backend.RequestBook`. It loads the
profile's records from the :class:`~lobby.teambattles.requests.RequestStore` once, in a worker
thread; from then on every question is answered from memory (a request another lobby on the
same records sent is read when an event names it), and every change is applied in
memory first, pushed to each subscriber, and written to the store by one worker thread, in the
order the changes happened. A new request is written before :meth:`MyRequests.add` returns, so a
request the service accepted is never only in memory; a status change is written in the
background, and :meth:`MyRequests.flush` (and closing) waits for every write.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime
from typing import TypeVar

from lobby.core.backend import MyRequest, Unsubscribe
from lobby.teambattles import wire as m
from lobby.teambattles.requests import (
    AcceptanceRecord,
    RequestStore,
    derive_status,
    status_from_event,
    updated,
)
from lobby.teambattles.vocab import AcceptanceStatus

log = logging.getLogger(__name__)

T = TypeVar("T")

#: The statuses whose match may still change them.
OPEN = frozenset({AcceptanceStatus.PENDING, AcceptanceStatus.APPROVED})

Listener = Callable[[MyRequest], None]


def as_request(record: AcceptanceRecord) -> MyRequest:
    return MyRequest(
        match_id=record.match_id,
        acceptance_id=record.acceptance_id,
        status=record.status,
        note=record.note,
        team_id=record.team_id,
    )


class MyRequests:
    """The requests of one profile: in memory, with subscribers, saved by a worker thread."""

    def __init__(self, store: RequestStore) -> None:
        self.store = store
        self._records: dict[str, AcceptanceRecord] = {}
        self._listeners: list[tuple[Listener, asyncio.AbstractEventLoop | None]] = []
        self._loaded = False
        self._loading = asyncio.Lock()
        self._writer: ThreadPoolExecutor | None = None

    def __repr__(self) -> str:
        return f"MyRequests({self.store!r})"

    @property
    def profile(self) -> str:
        return self.store.profile

    # --- the worker thread -----------------------------------------------------------------------

    def _submit(self, job: Callable[[], T]) -> Future[T]:
        """Run ``job`` on the one writer thread, after every job submitted before it."""
        if self._writer is None:
            self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="lobby-requests")
        return self._writer.submit(job)

    async def load(self) -> None:
        """Read the stored records, once, in the worker thread (later calls wait for that one).
        A file that cannot be read leaves the book empty: a broken local record must not stop
        the backend."""
        if self._loaded:
            return
        async with self._loading:
            if self._loaded:
                return
            try:
                found = await asyncio.wrap_future(self._submit(self.store.all))
            except Exception as error:  # noqa: BLE001 - see above
                log.warning("could not read the stored requests: %s", error)
                found = []
            self._loaded_from(found)

    def read_stored(self) -> None:
        """Read the stored records now, in the calling thread: a worker thread that builds the
        backend, before the event loop uses the book (:meth:`load` then has nothing left to
        do, and starts no thread). A file that cannot be read is left for :meth:`load`."""
        if self._loaded:
            return
        try:
            found = self.store.all()
        except Exception as error:  # noqa: BLE001 - load() tries again, and says so
            log.debug("the stored requests were not read ahead: %s", error)
            return
        self._loaded_from(found)

    def _loaded_from(self, found: list[AcceptanceRecord]) -> None:
        """The stored records read: each one not known yet is kept, and pushed."""
        fresh = [r for r in found if r.acceptance_id not in self._records]
        for record in fresh:
            self._records[record.acceptance_id] = record
        self._loaded = True
        for record in fresh:
            self._push(record)

    async def flush(self) -> None:
        """Wait until every change so far is in the store (the writer runs its jobs in order)."""
        if self._writer is not None:
            await asyncio.wrap_future(self._submit(_nothing))

    async def aclose(self) -> None:
        try:
            await self.flush()
        finally:
            if self._writer is not None:
                self._writer.shutdown(wait=False)
                self._writer = None

    # --- RequestBook -----------------------------------------------------------------------------

    def current(self) -> list[MyRequest]:
        """Every request known now, newest first; from memory."""
        return [as_request(r) for r in self.all()]

    def subscribe(self, listener: Listener) -> Unsubscribe:
        """Call ``listener`` with each request recorded, loaded or changed from now on, on the
        loop that subscribed (or at once, if none was running)."""
        try:
            loop: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
        entry = (listener, loop)
        self._listeners.append(entry)

        def unsubscribe() -> None:
            if entry in self._listeners:
                self._listeners.remove(entry)

        return unsubscribe

    def _push(self, record: AcceptanceRecord) -> None:
        request = as_request(record)
        for listener, loop in list(self._listeners):
            if loop is None or _on(loop):
                listener(request)
            elif not loop.is_closed():
                loop.call_soon_threadsafe(listener, request)

    # --- questions (from memory) -----------------------------------------------------------------

    def all(self) -> list[AcceptanceRecord]:
        """Every request, newest first."""
        return sorted(
            self._records.values(), key=lambda r: (-r.submitted_at.timestamp(), r.acceptance_id)
        )

    def get(self, acceptance_id: str) -> AcceptanceRecord | None:
        return self._records.get(acceptance_id)

    def for_match(self, match_id: str) -> list[AcceptanceRecord]:
        return [r for r in self.all() if r.match_id == match_id]

    def pending_team_ids(self, match_id: str) -> frozenset[str]:
        """Teams with a request of mine still pending on ``match_id``."""
        return frozenset(
            r.team_id
            for r in self._records.values()
            if r.match_id == match_id and r.status == AcceptanceStatus.PENDING
        )

    def open_match_ids(self) -> list[str]:
        """The matches of requests whose status their match may still change."""
        return sorted({r.match_id for r in self._records.values() if r.status in OPEN})

    # --- changes ---------------------------------------------------------------------------------

    async def add(self, record: AcceptanceRecord) -> AcceptanceRecord:
        """Remember a submitted request, in the store before returning. The same acceptanceId
        twice (a replayed submission) is kept once; the first record wins."""
        await self.load()
        known = self._records.get(record.acceptance_id)
        if known is not None:
            return known
        self._records[record.acceptance_id] = record
        self._push(record)
        await asyncio.wrap_future(self._submit(lambda: self.store.add(record)))
        return record

    def set_status(
        self, acceptance_id: str, status: AcceptanceStatus, note: str | None, at: datetime
    ) -> bool:
        """Record a new status; True if it changed (a settled status is never overwritten)."""
        record = self._records.get(acceptance_id)
        new = None if record is None else updated(record, status, note, at)
        if new is None:
            return False
        self._records[acceptance_id] = new
        self._push(new)
        self._submit(lambda: self._save_status(new))
        return True

    def _save_status(self, record: AcceptanceRecord) -> None:
        try:
            self.store.set_status(
                record.acceptance_id, record.status, record.note, at=record.updated_at
            )
        except Exception as error:  # noqa: BLE001 - a broken file must not stop the backend
            log.warning("could not save the status of request %s: %s", record.acceptance_id, error)

    def apply_match(self, match: m.MatchDetail, at: datetime) -> None:
        """What ``match`` as the service shows it now says of each request on it."""
        for record in self.for_match(match.id):
            status, note = derive_status(record.team_id, record.status, match)
            self.set_status(record.acceptance_id, status, note, at)

    async def apply_event(self, acceptance: object, at: datetime) -> None:
        """What one of the emulator's acceptance events says of a request. A request this book
        does not know may have been sent by another lobby on the same records (`lobby
        accept-match` in a second terminal): it is looked up in the store first."""
        said = status_from_event(acceptance)
        if said is None:
            return
        if said[0] not in self._records:
            await self._learn(said[0])
        self.set_status(*said, at)

    async def learn_match(self, match_id: str) -> None:
        """Take into the book the stored requests on ``match_id`` it does not know yet: sent by
        another lobby on the same records, whose decision the match now shows."""
        await self._take(lambda: self.store.for_match(match_id), f"on match {match_id}")

    async def _learn(self, acceptance_id: str) -> None:
        """Take the stored request ``acceptance_id`` into the book, if the store has it."""

        def one() -> list[AcceptanceRecord]:
            record = self.store.get(acceptance_id)
            return [] if record is None else [record]

        await self._take(one, acceptance_id)

    async def _take(self, read: Callable[[], list[AcceptanceRecord]], what: str) -> None:
        """Add the records ``read`` (run in the worker thread) finds that the book lacks."""
        if not self._loaded:
            return  # the first load reads every record anyway
        try:
            found = await asyncio.wrap_future(self._submit(read))
        except Exception as error:  # noqa: BLE001 - a broken file must not stop the backend
            log.warning("could not read the stored requests %s: %s", what, error)
            return
        for record in found:
            if record.acceptance_id not in self._records:
                self._records[record.acceptance_id] = record
                self._push(record)

    def gone(self, match_ids: Iterable[str], at: datetime | None = None) -> None:
        """These matches are no longer open and not the caller's to read (or the service no
        longer knows them): their requests keep their status until an event says more."""
        when = at or datetime.now(UTC)
        for match_id in match_ids:
            for record in self.for_match(match_id):
                self.set_status(
                    record.acceptance_id,
                    record.status,
                    "The match is no longer open; the service shows it only to its teams.",
                    when,
                )


def _on(loop: asyncio.AbstractEventLoop) -> bool:
    """Whether this thread is running ``loop`` now."""
    try:
        return asyncio.get_running_loop() is loop
    except RuntimeError:
        return False


def _nothing() -> None:
    return None
