"""Following the connected backends: their offers, their health, and the requests they push.

The app holds one :class:`Following`. It keeps the connected backends (in a fixed order, for
the status line) and the health of each, and runs one worker per backend that loads its offers
into the store and then applies its changes as they come. What a backend can do besides offers
is read from its typed :class:`~lobby.core.backend.Capabilities`:

- ``feed_state``: read on every tick; a live feed that reconnects shows as reconnecting;
- ``notice``: read on every tick; what it says (an emulator running above the service's rate
  limits) is kept in ``notices`` for the status line, which is repainted when it changes;
- ``requests``: the requests this user sent ("My requests"). The book's ``current()`` is read
  once when the backend's offers are first listed, then the book pushes each change to a
  listener, which hands it to the app's message loop: nothing is polled, and nothing here reads
  a file or a database (a RequestBook answers from memory);
- answered FlexMatch tickets whose offer closed are followed to their end (see followup).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import TYPE_CHECKING

from lobby.core.backend import FeedState, MyRequest, OfferBackend, Unsubscribe
from lobby.core.errors import BackendError
from lobby.core.offers import OfferKind
from lobby.tui.messages import BACKEND_LABELS, BackendStatus, Health, backend_label
from lobby.tui.safe import brief, clean
from lobby.tui.store import Applied

if TYPE_CHECKING:
    from lobby.tui.app import LobbyApp
    from lobby.tui.switching import Served

#: The healths a feed state may move between; a loading, failed or closed backend keeps its own.
FEED_HEALTHS = (Health.LIVE, Health.RECONNECTING)


class Following:
    """The app's connected backends, each followed in a worker of its own."""

    def __init__(self, app: LobbyApp) -> None:
        self._app = app
        self.backends: list[OfferBackend] = []
        #: The health of each backend, by name, for the status line.
        self.status: dict[str, BackendStatus] = {}
        #: What each backend says the user must be told while connected, by name, as sent
        #: (cleaned where shown); a backend with nothing to say has no entry.
        self.notices: dict[str, str] = {}
        self._settling: dict[str, asyncio.Event] = {}
        #: Backends whose requests this app follows, and how to stop.
        self._subscribed: dict[OfferBackend, Unsubscribe] = {}

    def backend(self, name: str) -> OfferBackend | None:
        for backend in self.backends:
            if backend.name == name:
                return backend
        return None

    def loading(self) -> bool:
        """Some connected backend has not answered its first listing yet."""
        return any(self.health(b.name, Health.LOADING) is Health.LOADING for b in self.backends)

    def health(self, name: str, otherwise: Health) -> Health:
        status = self.status.get(name)
        return otherwise if status is None else status.health

    def set_status(self, name: str, health: Health, detail: str = "") -> None:
        status = BackendStatus(name, health, detail)
        self.status[name] = status
        if health is not Health.LOADING and name in self._settling:
            self._settling.pop(name).set()
        self._app.status_changed.publish(status)

    # --- following -----------------------------------------------------------------------------

    def keep(self, one: Served) -> None:
        """Hold a connected backend (not followed yet); its offers' countdowns read the clock
        it came with (the service's time as it measures it), else the app's. The status line
        keeps a fixed order."""
        backend = one.backend
        if one.clock is not None:
            self._app.store.clocks[backend.name] = one.clock
        order = list(BACKEND_LABELS)
        self.backends.append(backend)
        self.backends.sort(key=lambda b: order.index(b.name) if b.name in order else len(order))

    def adopt(self, one: Served) -> None:
        """Start following a newly connected backend."""
        self.keep(one)
        self.follow(one.backend)

    def follow_all(self) -> None:
        for backend in self.backends:
            self.follow(backend)

    def follow(self, backend: OfferBackend) -> None:
        """Load ``backend``'s offers, then apply its changes as they come."""
        self.set_status(backend.name, Health.LOADING)
        self._app.run_worker(
            self._follow(backend),
            name=f"follow {backend.name}",
            group=f"backend:{backend.name}",
            exclusive=True,
            exit_on_error=False,
        )

    async def _follow(self, backend: OfferBackend) -> None:
        app, name = self._app, backend.name
        try:
            offers = await backend.list_offers()
        except BackendError as exc:
            self._failed(name, exc.message)
            return
        app.publish(app.store.replace(name, offers) + self._subscribe(backend), alert=False)
        self.set_status(name, Health.LIVE)
        if not app.watching:
            return
        try:
            async for change in backend.changes():
                applied = app.store.apply(change, name)
                if applied is not None:
                    app.publish([applied], alert=True)
        except BackendError as exc:
            self._failed(name, exc.message)
            return
        if self.health(name, Health.LIVE) is not Health.ERROR:
            self.set_status(name, Health.CLOSED)

    def _failed(self, name: str, message: str) -> None:
        sentence = clean(message)
        self.set_status(name, Health.ERROR, sentence)
        self._app.backend_failed(name)
        self._app.notify(brief(sentence), title=f"{backend_label(name)} failed", severity="error", markup=False)

    async def settled(self, backend: OfferBackend, timeout: float) -> None:
        """Until ``backend`` has answered its first listing (or failed), at most ``timeout`` s."""
        if self.health(backend.name, Health.LOADING) is not Health.LOADING:
            return
        settled = self._settling.setdefault(backend.name, asyncio.Event())
        try:
            async with asyncio.timeout(timeout):
                await settled.wait()
        except TimeoutError:
            pass

    async def leave(self) -> None:
        """Stop following every backend and close each; the list is empty after."""
        old, self.backends = self.backends, []
        self._app.store.clocks.clear()
        for backend in old:
            self._app.workers.cancel_group(self._app, f"backend:{backend.name}")
        self.status.clear()
        self.notices.clear()
        await self._close(old)

    async def close_all(self) -> None:
        await self._close(self.backends)

    async def _close(self, backends: Iterable[OfferBackend]) -> None:
        """Stop following the requests of ``backends`` and close each; a failure never stops
        the rest."""
        for backend in backends:
            unsubscribe = self._subscribed.pop(backend, None)
            try:
                if unsubscribe is not None:
                    unsubscribe()
                await backend.aclose()
            except Exception:  # closing must never stop the app from leaving
                pass

    # --- what capabilities say -----------------------------------------------------------------

    def tick(self) -> None:
        """Follow each backend's feed state and notice, and answered tickets past their offer."""
        for backend in self.backends:
            feed = backend.capabilities.feed_state
            current = self.health(backend.name, Health.LOADING)
            if feed is not None and current in FEED_HEALTHS:
                health = Health.RECONNECTING if feed() is FeedState.RECONNECTING else Health.LIVE
                if health is not current:
                    self.set_status(backend.name, health)
            self._follow_notice(backend)
        self._follow_answered()

    def _follow_notice(self, backend: OfferBackend) -> None:
        """Keep what ``backend`` says the user must be told; repaint the status line when it
        changed."""
        notice = backend.capabilities.notice
        said = notice() if notice is not None else None
        name = backend.name
        if said == self.notices.get(name):
            return
        if said is None:
            del self.notices[name]
        else:
            self.notices[name] = said
        status = self.status.get(name)
        if status is not None:
            self._app.status_changed.publish(status)

    def _subscribe(self, backend: OfferBackend) -> list[Applied]:
        """Follow the requests ``backend`` records, from now on; what it knows already."""
        book = backend.capabilities.requests
        if book is None or backend in self._subscribed:
            return []
        app = self._app

        def pushed(request: MyRequest) -> None:
            # Called from any task of the app's loop: the store is changed on the app's own.
            app.call_later(self._pushed, backend, request)

        self._subscribed[backend] = book.subscribe(pushed)
        # Oldest first: the newest request of each offer is the one noted last, and shown.
        noted = (app.store.note_request(backend.name, request) for request in reversed(book.current()))
        return [applied for applied in noted if applied is not None]

    def _pushed(self, backend: OfferBackend, request: MyRequest) -> None:
        if backend not in self._subscribed:
            return  # left since (another profile)
        applied = self._app.store.note_request(backend.name, request)
        if applied is not None:
            self._app.publish([applied], alert=applied.decided)

    def _follow_answered(self) -> None:
        """Answered tickets whose offer closed: learn where they ended (see followup)."""
        from lobby.tui.followup import follow_up

        app = self._app
        moved = []
        for entry in app.store:
            if entry.closed is None or not entry.answered or entry.offer.kind is not OfferKind.FLEXMATCH_TICKET:
                continue
            backend = self.backend(entry.backend)
            if backend is None:
                continue
            newer = follow_up(backend, entry.closed, entry.offer.players)
            if newer is not None:
                applied = app.store.apply(newer, entry.backend)
                if applied is not None:
                    moved.append(applied)
        if moved:
            app.publish(moved, alert=False)

