"""Switching backend profile: leave the current backends, connect the ones of another profile.

A :data:`Connect` callable, given a profile name, describes its backends: a sequence, an
awaitable of one, or an async iterator yielding each backend as soon as it is built, so one
backend's offers show while the next is still being built (start-up connects the first profile
this way too). Raising BackendError or ValueError before the first backend keeps the current
ones; after it, the backends connected so far stay.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from collections.abc import AsyncGenerator, AsyncIterable, AsyncIterator, Awaitable, Callable, Sequence
from typing import TYPE_CHECKING

from lobby.core.backend import OfferBackend
from lobby.core.clock import Clock
from lobby.core.errors import BackendError
from lobby.tui.safe import clean

if TYPE_CHECKING:
    from lobby.tui.app import LobbyApp



@dataclass(frozen=True, slots=True)
class Served:
    """A backend and the service's clock it answers by: this machine's clock corrected by the
    skew the backend measures (again on each reconnect). Its offers' countdowns read it."""

    backend: OfferBackend
    #: None: the app's clock.
    clock: Clock | None = None


#: What a profile's connection hands over: a backend, or a backend with its service's clock.
Connected = OfferBackend | Served

Connect = Callable[[str], Sequence[Connected] | Awaitable[Sequence[Connected]] | AsyncIterable[Connected]]

#: While connecting a profile, the next backend is built once the previous one has answered its
#: first listing, or after this many seconds at most.
NEXT_BACKEND_AFTER = 1.0


class ProfileSwitch:
    """Connects the profiles of one app, one switch at a time (the app runs it in a worker)."""

    def __init__(self, app: LobbyApp, connect: Connect) -> None:
        self._app = app
        self._connect = connect
        self._token: object = None

    async def run(self, name: str, *, announce: bool) -> None:
        """Leave the current backends and connect the ones of profile ``name``; meanwhile the
        app's ``connecting`` names it (the home says so)."""
        app = self._app
        token = self._token = object()
        app.connecting = name
        app.offers_changed.publish([])
        try:
            await self._switch(name, announce=announce)
        finally:
            if self._token is token:  # not already replaced by a newer switch
                app.connecting = None
                app.offers_changed.publish([])
                app.call_after_refresh(app.started)

    async def _switch(self, name: str, *, announce: bool) -> None:
        app = self._app
        stream: AsyncIterator[Connected] | None = None
        try:
            result = self._connect(name)
            if isinstance(result, AsyncIterable):
                stream = aiter(result)
                item: Connected | None = await anext(stream, None)
                first = [] if item is None else [item]
            else:
                first = list(await result if isinstance(result, Awaitable) else result)
        except (BackendError, ValueError) as exc:
            app.notify_failure(f"Cannot switch to {clean(name)}", exc)
            return
        try:
            await app.following.leave()
            app.store.clear()
            app.profile = name
            app.sub_title = f"profile {clean(name)}"
            app.offers_changed.publish([])
            for connected in first:
                self._adopt(connected)
            if stream is not None:
                last = _backend(first[-1]) if first else None
                while True:
                    if last is not None:
                        # One at a time: building the next backend (importing its adapter)
                        # would slow down showing this one's offers.
                        await app.following.settled(last, NEXT_BACKEND_AFTER)
                        await self._next_frame()
                    item = await anext(stream, None)
                    if item is None:
                        break
                    last = self._adopt(item)
        except (BackendError, ValueError) as exc:  # the backends connected so far stay
            app.notify_failure(f"Cannot connect all of {clean(name)}", exc)
        finally:
            if isinstance(stream, AsyncGenerator):
                await stream.aclose()
        if announce:
            app.notify(f"Switched to profile {clean(name)}.", markup=False)

    def _adopt(self, connected: Connected) -> OfferBackend:
        one = served(connected)
        self._app.following.adopt(one)
        return one.backend

    async def _next_frame(self) -> None:
        """Until the screen has been refreshed: what was just published is on screen."""
        painted = asyncio.get_running_loop().create_future()

        def done() -> None:
            if not painted.done():
                painted.set_result(None)

        self._app.call_after_refresh(done)
        await painted



def served(connected: Connected) -> Served:
    """``connected`` with its service's clock (None when it came without one)."""
    return connected if isinstance(connected, Served) else Served(connected)


def _backend(connected: Connected) -> OfferBackend:
    return served(connected).backend
