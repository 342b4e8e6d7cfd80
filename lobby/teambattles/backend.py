"""TeamBattles behind the one :class:`~lobby.core.backend.OfferBackend` Protocol.

The backend wires its parts together, one job each:

- :mod:`~lobby.teambattles.directory`: the games, teams and members, cached;
- :mod:`~lobby.teambattles.identity`: who the key's owner is, and which teams they lead;
- :mod:`~lobby.teambattles.offers`: which matches are offers, and what changed about them;
- :mod:`~lobby.teambattles.desk`: the facts drafts are judged against (``capabilities.acceptance``);
- :mod:`~lobby.teambattles.sender`: drafts checked once and sent, with idempotent retries;
- :mod:`~lobby.teambattles.request_book`: my requests in memory (``capabilities.requests``),
  saved to :mod:`~lobby.teambattles.requests` off the event loop;
- :mod:`~lobby.teambattles.feed` and :mod:`~lobby.teambattles.polling`: changes from the
  emulator's event stream when the profile is an emulator one, otherwise from polling, paced by
  the service's rate-limit headers.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime

import httpx

from lobby.core.answers import AcceptanceDraft, MatchStatus
from lobby.core.backend import Capabilities, FeedState
from lobby.core.errors import InvalidRequest, NotFound, PermissionDenied, Throttled, Unavailable
from lobby.core.offers import Change, Offer
from lobby.teambattles import feed, polling
from lobby.teambattles import wire as m
from lobby.teambattles.client import TeamBattlesClient
from lobby.teambattles.desk import Desk
from lobby.teambattles.directory import Directory
from lobby.teambattles.identity import Identity
from lobby.net.stream import Handshake
from lobby.teambattles.matches import Mine
from lobby.teambattles.offers import Offers
from lobby.teambattles.request_book import MyRequests
from lobby.teambattles.requests import AcceptanceRecord, RequestStore
from lobby.teambattles.sender import Sender
from lobby.teambattles.vocab import EventType

log = logging.getLogger(__name__)


class _ServiceClock:
    """The service's clock as the client sees it (this machine's clock plus the skew)."""

    def __init__(self, client: TeamBattlesClient) -> None:
        self._client = client

    def now(self) -> datetime:
        return self._client.now()

    def timestamp(self) -> float:
        return self._client.now().timestamp()


class TeamBattlesBackend:
    """Offers, changes and answers for one TeamBattles API key."""

    name = "teambattles"

    def __init__(
        self,
        client: TeamBattlesClient,
        *,
        requests: RequestStore | None = None,
        user: str | None = None,
        feed_url: str | None = None,
        feed_transport: httpx.AsyncBaseTransport | None = None,
        poll_interval: float = 15.0,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
        monotonic: Callable[[], float] | None = None,
    ) -> None:
        self.client = client
        self.feed_url = feed_url
        self._feed_transport = feed_transport
        self.poll_interval = poll_interval
        self._sleep = sleep
        self.clock = _ServiceClock(client)
        clock = monotonic or time.monotonic
        #: My requests, in memory; the store keeps them across restarts.
        self.requests = MyRequests(requests or RequestStore())
        self._directory = Directory(client, monotonic=clock)
        #: Without a user the backend cannot tell which teams I lead, and shows every open match.
        self._identity = Identity(self._directory, user)
        self._offers = Offers(client, self._directory, self._identity)
        self.desk = Desk(client, self._directory, self._identity, self.requests, monotonic=clock)
        self._sender = Sender(client, self.desk, self.requests)
        #: The event stream's state while :meth:`changes` follows it (None when polling).
        self.feed_state: FeedState | None = None
        self.feed_live = asyncio.Event()
        #: The emulator's notice that it meters above the service's own rate limits, from its
        #: latest health check while :meth:`changes` follows its stream (None: published limits).
        self.raised_limits_notice: str | None = None
        self._capabilities = Capabilities(
            feed_state=lambda: self.feed_state or FeedState.CONNECTING,
            requests=self.requests,
            acceptance=self.desk,
            notice=lambda: self.raised_limits_notice,
        )

    def __repr__(self) -> str:
        return f"TeamBattlesBackend({self.client!r}, user={self.user!r})"

    @property
    def capabilities(self) -> Capabilities:
        return self._capabilities

    @property
    def user(self) -> str | None:
        """The key owner's username or user id, when the profile names it."""
        return self._identity.user

    @user.setter
    def user(self, value: str | None) -> None:
        self._identity.user = value

    async def aclose(self) -> None:
        try:
            await self.requests.aclose()
        finally:
            await self.client.aclose()

    async def __aenter__(self) -> TeamBattlesBackend:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    # --- offers ----------------------------------------------------------------------------------

    async def list_offers(self) -> list[Offer]:
        return await self._listed()

    async def _listed(self) -> list[Offer]:
        _, (matches, offers) = await asyncio.gather(self.requests.load(), self._offers.listed())
        for match in matches:
            self.desk.observe(match)
        return offers

    def _seen(self, match: m.MatchDetail) -> None:
        """The match as the service shows it now: for the desk and for my requests on it."""
        self.desk.observe(match)
        self.requests.apply_match(match, self.client.now())

    # --- answering -------------------------------------------------------------------------------

    async def send(self, match_id: str, draft: AcceptanceDraft) -> AcceptanceRecord | None:
        """Check ``draft`` once and send it: a request for an open match (its record returned)
        or the roster that takes up a challenge (None). A draft that breaks a rule is not sent:
        InvalidRequest lists every problem."""
        record = await self._sender.send(match_id, draft)
        if record is None:
            self._offers.answered(match_id)
        return record

    async def submit(self, match_id: str, draft: AcceptanceDraft) -> AcceptanceRecord:
        """Check and send a request to play an open match, and remember it."""
        return await self._sender.submit(match_id, draft)

    async def accept_challenge(self, match_id: str, draft: AcceptanceDraft) -> None:
        """Take up a direct challenge to my team with the draft's roster."""
        await self._sender.accept_challenge(match_id, draft)
        self._offers.answered(match_id)

    async def accept(self, offer_id: str, answer: object) -> str:
        """Send a request for an open match, or take up a challenge; ``answer`` is an
        :class:`~lobby.core.answers.AcceptanceDraft`."""
        if not isinstance(answer, AcceptanceDraft):
            raise InvalidRequest("A TeamBattles answer needs a team and a roster.")
        record = await self.send(offer_id, answer)
        if record is None:
            return f"Challenge {offer_id} accepted; the match is on."
        return (
            f"Request {record.acceptance_id} sent for match {offer_id}; "
            "waiting for the creator's answer."
        )

    async def reject(self, offer_id: str, answer: object) -> str:
        """Refuse a direct challenge; ``answer`` is an optional reason. Open matches need no
        refusal (and TeamBattles has none): they simply go unanswered."""
        reason = answer if isinstance(answer, str) and answer.strip() else None
        await self._sender.refuse(offer_id, reason)
        self._offers.answered(offer_id)
        return f"Challenge {offer_id} refused."

    # --- my requests -----------------------------------------------------------------------------

    async def refresh_requests(self) -> list[AcceptanceRecord]:
        """Bring every unsettled request up to date, reading only what the caller may: the
        discover listing (an open match's request is still pending) and, for a match my team
        now plays in, the match itself (a participant may read it). A match neither shows is
        left as the records and the events last said, with a note.
        """
        await self.requests.load()
        open_ids = self.requests.open_match_ids()
        if not open_ids:
            return self.requests.all()
        listed = {match.id: match for match in await self.client.discover_all()}
        gone = []
        for match_id in open_ids:
            match = listed.get(match_id) or await self._as_participant(match_id)
            if match is None:
                gone.append(match_id)
                continue
            self._seen(match)
        self.requests.gone(gone, self.client.now())
        return self.requests.all()

    async def _as_participant(self, match_id: str) -> m.MatchDetail | None:
        """``match_id`` read directly when a team I requested it for now plays in it."""
        filters = m.MatchesRequestBody(num_items=100)
        for team in {r.team_id for r in self.requests.for_match(match_id)}:
            try:
                async for item in self.client.team_matches(team, filters):
                    if item.id == match_id:
                        return await self.client.get_match(match_id)
            except (NotFound, PermissionDenied):
                continue
        return None

    # --- changes ---------------------------------------------------------------------------------

    def changes(self) -> AsyncIterator[Change]:
        if self.feed_url:
            return self._feed_changes(self.feed_url)
        return self._polled_changes()

    def _feed_state(self, state: FeedState) -> None:
        self.feed_state = state
        if state is FeedState.LIVE:
            self.feed_live.set()
        else:
            self.feed_live.clear()

    def _handshake(self, found: Handshake) -> None:
        self.raised_limits_notice = found.raised_limits_notice

    async def _refresh_quietly(self) -> None:
        try:
            await self.refresh_requests()
        except (NotFound, Throttled, Unavailable) as error:
            log.debug("could not refresh requests before following events: %s", error)

    async def _feed_changes(self, url: str) -> AsyncIterator[Change]:
        """Changes from the emulator's event stream: from the moment of the call on (the
        requests are brought up to date first, so nothing between is missed)."""
        mine = await self._identity.mine()
        events = feed.follow(
            url,
            before=self._refresh_quietly,
            on_state=self._feed_state,
            on_handshake=self._handshake,
            transport=self._feed_transport,
        )
        async for event in events:
            change = await self._apply(event, mine)
            if change is not None:
                yield change

    async def _apply(self, event: feed.Event, mine: Mine) -> Change | None:
        if event.acceptance is not None:
            await self.requests.apply_event(event.acceptance, self.client.now())
        match = event.match
        if match is None:
            return None
        if match.status is not MatchStatus.PENDING:  # settled: a request sent elsewhere may be on it
            await self.requests.learn_match(match.id)
        if event.type == EventType.ROSTER_UPDATED:
            self.desk.forget(match.id)  # its players changed: read them again when needed
        self._seen(match)
        return await self._offers.change_for(match, mine, event.id, event.type)

    async def _polled_changes(self) -> AsyncIterator[Change]:
        """Poll offers and requests, paced by the rate-limit headers; yield what changed."""
        async for change in polling.poll(
            self._offers,
            mine=self._identity.mine,
            listed=self._listed,
            refresh=self.refresh_requests,
            pacer=self.client.pacer,
            interval=self.poll_interval,
            sleep=self._sleep,
        ):
            yield change
