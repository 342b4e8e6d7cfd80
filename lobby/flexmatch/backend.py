"""FlexMatch behind the one :class:`~lobby.core.backend.OfferBackend` Protocol.

Where changes come from:
- with an event stream (the emulator's, or ``feed_url``): every matchmaking event, in order,
  resumed with ``Last-Event-ID`` across reconnects and restarts;
- without one: DescribeMatchmaking for the tickets this backend knows (started here or
  tracked), no more often than every ``poll_interval`` seconds (AWS asks for >= 10 s).

Offers are tickets of the configured players in REQUIRES_ACCEPTANCE (see :mod:`.tickets`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence

import httpx

from lobby.core.clock import Clock, SystemClock
from lobby.core.events import EventSource
from lobby.core.errors import BackendError, InvalidRequest, NotFound, ProtocolError
from lobby.core.offers import Change, Offer, OfferUpdated
from lobby.flexmatch import errors as faults
from lobby.flexmatch.client import FlexMatchClient
from lobby.flexmatch.lifecycle import TicketStatus
from lobby.flexmatch.fold import Ticket
from lobby.flexmatch.notifications import read_event
from lobby.flexmatch.tickets import TicketBook
from lobby.flexmatch.wire import AcceptanceType, MatchmakingTicket, Player
from lobby.core.backend import Capabilities, FeedState
from lobby.net.stream import EventFeed, FeedEvent, Handshake, NotAnEmulator, handshake

log = logging.getLogger(__name__)

#: AWS guidance: poll DescribeMatchmaking no more often than this.
MIN_POLL_INTERVAL = 10.0


class FlexMatchBackend:
    """Offers from GameLift FlexMatch (or the emulator), and the way to answer them."""

    name = "flexmatch"

    @property
    def capabilities(self) -> Capabilities:
        """The state of the event stream, and where answered tickets went (the book)."""
        return self._capabilities

    def __init__(
        self,
        client: FlexMatchClient,
        *,
        players: Iterable[str] = (),
        feed_url: str | None = None,
        poll_interval: float = MIN_POLL_INTERVAL,
        clock: Clock | None = None,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
        on_feed_state: Callable[[FeedState], None] | None = None,
        feed_backoff: float = 5.0,
    ) -> None:
        self.client = client
        self.book = TicketBook(players)
        self.feed_url = feed_url.rstrip("/") if feed_url else None
        self.poll_interval = max(MIN_POLL_INTERVAL, poll_interval)
        self._clock = clock
        self._sleep = sleep
        self._on_feed_state = on_feed_state
        self._feed_backoff = feed_backoff
        #: The last event folded into the book; the stream resumes after it.
        self.last_event_id = 0
        #: The emulator's database instance ``last_event_id`` counts in (None: not known yet).
        self.feed_instance: str | None = None
        self.feed_state: FeedState | None = None
        self._synced = False
        self._feed_skew: float | None = None
        self._acceptance_timeouts: dict[str, int | None] = {}
        #: Events that were not matchmaking events lobby can read (counted, then ignored).
        self.unreadable_events = 0
        self._capabilities = Capabilities(feed_state=self._feed_state_now, outcomes=self.book)

    def __repr__(self) -> str:
        return f"FlexMatchBackend(endpoint={self.client.endpoint!r}, feed={self.feed_url!r})"

    @property
    def players(self) -> frozenset[str]:
        return self.book.players

    @property
    def clock(self) -> Clock:
        """The injected clock, else this machine's clock corrected to the server's."""
        if self._clock is not None:
            return self._clock
        return SystemClock(self._feed_skew if self._feed_skew is not None else self.client.skew)

    async def aclose(self) -> None:
        await self.client.aclose()

    async def __aenter__(self) -> FlexMatchBackend:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    # --- the Protocol -------------------------------------------------------------------------

    async def list_offers(self) -> list[Offer]:
        if self.feed_url is not None:
            if not self._synced:
                await self.sync()
        else:
            await self.refresh()
        return self.book.offers()

    async def changes(self) -> AsyncIterator[Change]:
        """Changes to my offers, forever. A first call that nothing synced yet starts with
        the offers open now (as OfferUpdated), not with the history that led to them."""
        if self.feed_url is not None:
            if not self._synced:
                await self.sync()
                for offer in self.book.offers():
                    yield OfferUpdated(offer=offer, event_id=str(self.last_event_id) or None)
            async for change in self._follow():
                yield change
        else:
            async for change in self._poll():
                yield change

    async def accept(self, offer_id: str, answer: object = None) -> str:
        """ACCEPT for ``answer``: a player id, several, or None for my players in the ticket."""
        return await self._answer(offer_id, answer, AcceptanceType.ACCEPT)

    async def reject(self, offer_id: str, answer: object = None) -> str:
        return await self._answer(offer_id, answer, AcceptanceType.REJECT)

    # --- beyond the Protocol ------------------------------------------------------------------

    async def prepare(self) -> None:
        """Read the event stream up to now ahead of the first listing, which then answers at
        once (the stream is followed on from there, so nothing that happens meanwhile is
        missed). Without a stream there is nothing to read ahead. A failure is left for the
        listing to meet and report."""
        if self.feed_url is None or self._synced:
            return
        try:
            await self.sync()
        except BackendError as error:
            log.debug("the event stream was not read ahead of the first listing: %s", error)

    async def start(
        self, configuration_name: str, players: Sequence[str | Player], *, ticket_id: str | None = None
    ) -> MatchmakingTicket:
        """Start a ticket and remember it, so it is watched even without an event stream."""
        ticket = await self.client.start_matchmaking(configuration_name, players, ticket_id=ticket_id)
        self.book.observe(ticket, now=self.clock.now())
        return ticket

    def track(self, ticket_ids: Iterable[str]) -> None:
        """Watch tickets started elsewhere (polling mode learns them no other way)."""
        for ticket_id in ticket_ids:
            self.book.know(ticket_id)

    def tickets(self, *, live_only: bool = True) -> list[Ticket]:
        """Every ticket known, mine or not (for people who watch all of them), oldest first."""
        found = self.book.live() if live_only else list(self.book.tickets.values())
        return sorted(found, key=lambda t: (t.started_at if t.started_at is not None else -math.inf, t.ticket_id))

    async def sync(self) -> list[Change]:
        """Bring the book up to now: the event stream up to its last event, or one poll."""
        if self.feed_url is None:
            return await self.refresh()
        health = await self._health()
        if health.instance is not None and health.instance != self.feed_instance:
            if self.feed_instance is not None:
                self._resynced(health.instance)  # another database: its ids count afresh
            self.feed_instance = health.instance
        target = health.last_event_id
        changes: list[Change] = []
        if target > self.last_event_id:
            # Unfiltered, so the stream certainly reaches ``target`` whatever its source.
            feed = self._feed(sources=None, max_reconnects=3)
            async with contextlib.aclosing(feed.events()) as events:
                async for event in events:
                    changes += self._fold(event)
                    if event.id >= target:
                        break
        self._synced = True
        return changes

    async def refresh(self) -> list[Change]:
        """One DescribeMatchmaking round over the tickets of mine still in play."""
        ids = self.book.pollable_ids()
        if not ids:
            return []
        found = await self.client.describe_matchmaking(ids)
        awaiting = {t.configuration_name for t in found if t.status is TicketStatus.REQUIRES_ACCEPTANCE}
        await self._learn_timeouts(c for c in awaiting if c)
        now = self.clock.now()
        changes: list[Change] = []
        for ticket in found:
            timeout = self._acceptance_timeouts.get(ticket.configuration_name or "")
            changes += self.book.observe(ticket, now=now, acceptance_timeout=timeout)
        return changes

    # --- internals ----------------------------------------------------------------------------

    def _fold(self, event: FeedEvent) -> list[Change]:
        self.last_event_id = max(self.last_event_id, event.id)
        if event.data.get("source") != EventSource.GAMELIFT:
            return []
        parsed = read_event(event.data)
        if parsed is None:
            self.unreadable_events += 1
            return []
        return self.book.apply(parsed, str(event.id), now=self.clock.now())

    def _feed_state_now(self) -> FeedState:
        return self.feed_state or FeedState.CONNECTING

    def _set_feed_state(self, state: FeedState) -> None:
        self.feed_state = state
        if self._on_feed_state is not None:
            self._on_feed_state(state)

    def _feed(
        self,
        *,
        sources: list[str] | None,
        on_state: Callable[[FeedState], None] | None = None,
        max_reconnects: int | None = None,
    ) -> EventFeed:
        """A feed resuming after the last event folded, in the instance it counts in."""
        return EventFeed(
            self.client.http,
            self.feed_url or "",
            sources=sources,
            last_event_id=self.last_event_id,
            on_state=on_state,
            sleep=self._sleep,
            max_backoff=self._feed_backoff,
            max_reconnects=max_reconnects,
            instance=self.feed_instance,
            on_resync=self._resynced,
        )

    def _resynced(self, instance: str) -> None:
        """The emulator is another database now: its event ids count afresh, from its first."""
        log.info("the event stream now comes from another emulator database; reading it from its start")
        self.feed_instance = instance
        self.last_event_id = 0

    async def _follow(self) -> AsyncIterator[Change]:
        feed = self._feed(sources=[EventSource.GAMELIFT], on_state=self._set_feed_state)
        async with contextlib.aclosing(feed.events()) as events:
            async for event in events:
                for change in self._fold(event):
                    yield change

    async def _poll(self) -> AsyncIterator[Change]:
        while True:
            try:
                changes = await self.refresh()
            except BackendError as error:
                if not error.retryable:
                    raise
                changes = []  # the retries ran out; try again next round
            for change in changes:
                yield change
            await self._sleep(self.poll_interval)

    async def _learn_timeouts(self, configurations: Iterable[str]) -> None:
        missing = sorted({c for c in configurations if c not in self._acceptance_timeouts})
        if not missing:
            return
        try:
            found = await self.client.describe_matchmaking_configurations(missing)
        except BackendError:
            return  # deadlines stay unknown; the offers still show
        for configuration in found:
            self._acceptance_timeouts[configuration.name] = configuration.acceptance_timeout_seconds
        for name in missing:
            self._acceptance_timeouts.setdefault(name, None)

    async def _health(self) -> Handshake:
        url = self.feed_url or ""
        try:
            found = await handshake(self.client.http, url)
        except httpx.HTTPStatusError as exc:
            raise faults.from_response("the event stream check", exc.response) from None
        except httpx.HTTPError as exc:
            raise faults.from_transport("the event stream check", exc, url) from None
        except NotAnEmulator as exc:
            raise ProtocolError(str(exc)) from None
        self._feed_skew = found.skew
        return found

    async def _answer(self, ticket_id: str, answer: object, kind: AcceptanceType) -> str:
        players = await self._players_for(ticket_id, answer)
        # The book learns the answer from the events it causes, like every other change.
        await self.client.accept_match(ticket_id, players, kind)
        who = ("player " if len(players) == 1 else "players ") + ", ".join(players)
        if kind is AcceptanceType.ACCEPT:
            return f"Accepted ticket {ticket_id} for {who}."
        return f"Rejected ticket {ticket_id} for {who}; the proposed match is dropped."

    async def _players_for(self, ticket_id: str, answer: object) -> list[str]:
        if isinstance(answer, str):
            return [answer]
        if answer is not None:
            if not isinstance(answer, Iterable):
                raise InvalidRequest("Answer a ticket with player ids.")
            players = [str(p) for p in answer]
            if players:
                return players
        if not self.players:
            raise InvalidRequest(
                f"Say which players answer ticket {ticket_id}: no players are configured as yours."
            )
        ticket = self.book.get(ticket_id)
        if ticket is None or not ticket.players:
            for found in await self.client.describe_matchmaking([ticket_id]):
                self.book.observe(found, now=self.clock.now())
            ticket = self.book.get(ticket_id)
            if ticket is None:
                raise NotFound(f"GameLift knows no ticket {ticket_id}.")
        mine = self.book.my_players(ticket) if ticket is not None and self.players else ()
        if not mine:
            raise InvalidRequest(
                f"Say which players answer ticket {ticket_id}: none of its players are configured as yours."
            )
        return list(mine)
