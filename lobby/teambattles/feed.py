"""The emulator's event stream, read as TeamBattles events.

Events (source ``teambattles``) carry the match as the service shows it after the change, and the
emulator's own acceptance events carry the acceptance too (see :class:`~lobby.teambattles.vocab.
EventType`). The stream is followed from the moment of the call on: its position is taken first,
then ``before`` runs (the caller brings what it remembers up to date), then the events after
that position arrive, so nothing in between is missed.

What the health check says besides the position (the emulator running above the service's own
rate limits) goes to ``on_handshake``: once at the start, and again each time the stream
reconnects, so an emulator restarted with another scenario is described as it is now.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

import httpx

from lobby.core.backend import FeedState
from lobby.core.events import EventSource
from lobby.net.stream import EventFeed, FeedEvent, Handshake, NotAnEmulator, handshake
from lobby.net.transports import shared_transport
from lobby.teambattles import wire as m
from lobby.teambattles.vocab import ACCEPTANCE_EVENTS

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Event:
    """One TeamBattles event: its id on the stream, its type, the match (when it carries one
    lobby understands) and, for acceptance events, the acceptance as sent."""

    id: str
    type: str
    match: m.MatchDetail | None
    acceptance: object = None


def read(event: FeedEvent) -> Event | None:
    """The TeamBattles event in ``event``, or None when it carries no data."""
    data = event.data.get("data")
    if not isinstance(data, dict):
        return None
    match = None
    raw = data.get("match")
    if isinstance(raw, dict):
        try:
            match = m.MatchDetail.model_validate(raw)
        except ValueError:
            log.debug("event %s: match not understood", event.id)
    acceptance = data.get("acceptance") if event.type in ACCEPTANCE_EVENTS else None
    return Event(str(event.id), event.type, match, acceptance)


async def follow(
    url: str,
    *,
    before: Callable[[], Awaitable[None]],
    on_state: Callable[[FeedState], None],
    on_handshake: Callable[[Handshake], None] | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
) -> AsyncIterator[Event]:
    """The TeamBattles events of the emulator at ``url``, from now on; ``on_handshake`` hears
    its health check at the start and after each reconnect."""
    timeout = httpx.Timeout(10.0, read=None)
    if transport is None:
        transport = shared_transport()
    async with httpx.AsyncClient(transport=transport, timeout=timeout) as http:
        start, instance, known = 0, None, False
        try:
            found = await handshake(http, url)
            start, instance, known = found.last_event_id, found.instance, True
            if on_handshake is not None:
                on_handshake(found)
        except (httpx.HTTPError, NotAnEmulator):
            log.debug("no event position from %s; reading the stream from its start", url)
        await before()
        # The position counts in the handshake's instance: a stream from another database
        # (the emulator restarted on a fresh one in between) is read from its start.
        feed = EventFeed(
            http,
            url,
            sources=[EventSource.TEAMBATTLES],
            last_event_id=start,
            on_state=on_state,
            instance=instance,
            on_handshake=on_handshake,
            handshake_known=known,
        )
        events = feed.events()
        try:
            async for raw in events:
                event = read(raw)
                if event is not None:
                    yield event
        finally:
            if isinstance(events, AsyncGenerator):
                with contextlib.suppress(Exception):
                    await events.aclose()
