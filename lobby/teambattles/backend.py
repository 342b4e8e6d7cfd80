"""TeamBattles behind the one :class:`~lobby.core.backend.OfferBackend` Protocol.

Offers are the open matches a team of mine could accept (published, PENDING, not a challenge,
in a game one of the teams I lead plays) and the direct challenges to my teams. Their deadline
is the match's ``scheduledAt``: an open match is acceptable until it starts.

Changes come from the emulator's event stream when the profile is an emulator one, otherwise
from polling, paced by the service's rate-limit headers.

Before sending an acceptance, the draft is checked with the same rule functions the emulator
enforces (:mod:`lobby.teambattles.rules`); a draft that breaks one is not sent, and the error
lists every problem in words. The service remains the judge: a rule the client cannot check
(it does not know the organization owner, or who the key belongs to) is left to it.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import httpx

from lobby.core.errors import (
    AuthenticationFailed,
    BackendError,
    InvalidRequest,
    NotConfigured,
    NotFound,
    PermissionDenied,
    ProtocolError,
    Throttled,
    Unavailable,
)
from lobby.core.answers import LEADER_ROLES, MatchStatus
from lobby.core.offers import Change, Offer, OfferClosed, OfferKind, OfferUpdated
from lobby.core.backend import Capabilities, FeedState
from lobby.net.stream import EventFeed, FeedEvent, NotAnEmulator, handshake
from lobby.net.transports import shared_transport
from lobby.teambattles import rules
from lobby.teambattles import wire as m
from lobby.teambattles.vocab import ACCEPTANCE_EVENTS
from lobby.teambattles.matches import (
    acceptance_body,
    bench_body,
    closed_outcome,
    describe_violations,
    game_facts,
    match_facts,
    offer_from_match,
    role_of,
)
from lobby.teambattles.client import TeamBattlesClient, new_idempotency_key
from lobby.teambattles.requests import (
    AcceptanceRecord,
    RequestStore,
    derive_status,
)

log = logging.getLogger("lobby.teambattles.connect")

#: How long the teams and the game catalog are trusted before being fetched again.
CACHE_SECONDS = 300.0


@dataclasses.dataclass(frozen=True)
class _Mine:
    """My team ids, the ones I lead, and the games those play; None where unknown."""

    teams: frozenset[str] | None = None
    led: frozenset[str] | None = None
    games: frozenset[str] | None = None


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

    @property
    def capabilities(self) -> Capabilities:
        return Capabilities(feed_state=lambda: self.feed_state or FeedState.CONNECTING)

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
        on_request: Callable[[AcceptanceRecord], None] | None = None,
        monotonic: Callable[[], float] | None = None,
    ) -> None:
        self.client = client
        self.requests = requests or RequestStore()
        #: The key owner's username or user id, when the profile names it. Without it the
        #: backend cannot tell which teams I lead, and shows every open match.
        self.user = user
        self.feed_url = feed_url
        self._feed_transport = feed_transport
        self.poll_interval = poll_interval
        self._sleep = sleep
        self._on_request = on_request
        self.clock = _ServiceClock(client)
        self._monotonic = monotonic or time.monotonic
        self._cache: dict[str, tuple[float, Any]] = {}
        self._offered: dict[str, Offer] = {}
        self._me: str | None = None
        #: The event stream's state while :meth:`changes` follows it (None when polling).
        self.feed_state: FeedState | None = None
        self.feed_live = asyncio.Event()
        #: Idempotency keys of submissions whose outcome is unknown, by match and body.
        self._unsettled: dict[tuple[str, str], str] = {}

    def __repr__(self) -> str:
        return f"TeamBattlesBackend({self.client!r}, user={self.user!r})"

    async def aclose(self) -> None:
        await self.client.aclose()

    async def __aenter__(self) -> TeamBattlesBackend:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    # --- cached lookups --------------------------------------------------------------------------

    async def _cached(self, key: str, load: Callable[[], Awaitable[Any]]) -> Any:
        hit = self._cache.get(key)
        now = self._monotonic()
        if hit is not None and now - hit[0] < CACHE_SECONDS:
            return hit[1]
        value = await load()
        self._cache[key] = (now, value)
        return value

    def forget(self) -> None:
        """Drop cached teams and games (after a membership or catalog change)."""
        self._cache.clear()

    async def catalog(self) -> m.GameCatalog:
        return await self._cached("games", self.client.games)

    async def game_entry(self, game_ref: str) -> m.GameCatalogEntry | None:
        for entry in (await self.catalog()).games:
            if game_ref in entry.refs():
                return entry
        return None

    async def canonical_game(self, game_ref: str | None) -> str | None:
        """One id per game, whichever of its ids (public or internal) a route used."""
        if game_ref is None:
            return None
        entry = await self.game_entry(game_ref)
        if entry is None:
            return game_ref
        return entry.convex_id or entry.id

    async def team_profile(self, identifier: str) -> m.TeamProfile:
        return await self._cached(f"team:{identifier}", lambda: self.client.team(identifier))

    async def _is_member(self, team_id: str) -> bool:
        """Whether the key's owner is on ``team_id`` (a team hidden from me is not mine)."""
        try:
            return (await self.team_profile(team_id)).is_member
        except (PermissionDenied, NotFound):
            return False

    async def my_teams(self) -> list[m.UserTeamMembership] | None:
        """My active teams, or None when the profile does not say who I am."""
        if not self.user:
            return None
        user = self.user
        return await self._cached("my-teams", lambda: self.client.user_teams(user))

    async def led_teams(self) -> list[m.UserTeamMembership] | None:
        teams = await self.my_teams()
        if teams is None:
            return None
        return [t for t in teams if role_of(t.role) in LEADER_ROLES]

    async def me(self) -> str | None:
        """My user id: the configured user, resolved through a roster of one of my teams."""
        if self._me is not None or not self.user:
            return self._me
        wanted = self.user.casefold()
        for team in await self.my_teams() or []:
            for member in await self.client.team_members(team.id):
                if member.user.id == self.user or (member.user.username or "").casefold() == wanted:
                    self._me = member.user.id
                    return self._me
        return None

    # --- offers ----------------------------------------------------------------------------------

    async def _context(self) -> _Mine:
        """What I know about my teams (nothing when the profile does not say who I am)."""
        teams = await self.my_teams()
        if teams is None:
            return _Mine()
        led = [t for t in teams if role_of(t.role) in LEADER_ROLES]
        games: set[str] = set()
        for team in led:
            profile = await self.team_profile(team.id)
            game = await self.canonical_game(profile.game_id)
            if game is not None:
                games.add(game)
        return _Mine(frozenset(t.id for t in teams), frozenset(t.id for t in led), frozenset(games))

    async def _offer_kind(self, match: m.MatchDetail, mine: _Mine) -> OfferKind | None:
        """What offer ``match`` is to me, or None if it is none."""
        if match.status != MatchStatus.PENDING or match.accepted_team is not None:
            return None
        if match.publish_status.upper() != rules.PublishStatus.PUBLISHED:
            return None
        if match.scheduled_at is not None and match.scheduled_at <= self.client.now():
            return None
        creator = match.creator_team.id if match.creator_team else None
        challenged = match.challenged_team.id if match.challenged_team else None
        if mine.led is not None:
            if creator in mine.led:
                return None  # my own match
            if challenged is not None:
                return OfferKind.TEAMBATTLES_CHALLENGE if challenged in mine.led else None
            if mine.games is not None and await self.canonical_game(match.game.id) not in mine.games:
                return None
            return OfferKind.TEAMBATTLES_MATCH
        if creator is not None and await self._is_member(creator):
            return None  # who I am is unknown, but this team is mine: so is its match
        if challenged is not None:
            # A challenge I can see, to a team that is not the creator: it is to my team.
            return OfferKind.TEAMBATTLES_CHALLENGE
        return OfferKind.TEAMBATTLES_MATCH

    async def open_matches(self) -> list[m.MatchDetail]:
        """Open matches in the games my led teams play (every open match if that is unknown)."""
        teams = await self.led_teams()
        if teams is None:
            return await self.client.discover_all()
        seen: set[str] = set()
        out: list[m.MatchDetail] = []
        game_ids: list[str] = []
        for team in teams:
            profile = await self.team_profile(team.id)
            if profile.game_id and profile.game_id not in game_ids:
                game_ids.append(profile.game_id)
        for game_id in game_ids:
            for match in await self.client.discover_all(m.MatchDiscoverBody(game_id=game_id)):
                if match.id not in seen:
                    seen.add(match.id)
                    out.append(match)
        return out

    async def challenges(self) -> list[m.MatchDetail]:
        """PENDING matches that challenge one of my teams."""
        my_ids = (await self._context()).led
        out: list[m.MatchDetail] = []
        filters = m.MatchesRequestBody(num_items=100, include_statuses=[MatchStatus.PENDING])
        async for item in self.client.user_matches(filters):
            if item.status != MatchStatus.PENDING:
                continue
            if my_ids is not None and item.creator_team is not None and item.creator_team.id in my_ids:
                continue
            match = await self.client.get_match(item.id)
            if match.challenged_team is not None:
                out.append(match)
        return out

    async def list_offers(self) -> list[Offer]:
        mine = await self._context()
        offers: dict[str, Offer] = {}
        for match in [*await self.open_matches(), *await self.challenges()]:
            kind = await self._offer_kind(match, mine)
            if kind is not None:
                offers[match.id] = offer_from_match(match, kind)
        far = datetime.max.replace(tzinfo=UTC)
        result = sorted(offers.values(), key=lambda o: (o.deadline or far, o.id))
        self._offered = {o.id: o for o in result}
        return result

    # --- answering -------------------------------------------------------------------------------

    async def _team_and_members(
        self, identifier: str
    ) -> tuple[m.TeamProfile, list[m.TeamMember] | None]:
        """The team and its roster; None for a roster the key may not see (an organization
        owner outside a non-public team, say): the service then judges the roster alone."""
        team = await self.client.team(identifier)
        try:
            members = await self.client.team_members(team.id)
        except PermissionDenied:
            members = None
        return team, members

    @staticmethod
    def _resolve_user(ref: str, members: list[m.TeamMember]) -> str:
        """A user id for ``ref`` (a user id or a member's username); unknown refs stay as given,
        so the rules can name them."""
        for member in members:
            if member.user.id == ref:
                return ref
        wanted = ref.casefold()
        for member in members:
            if (member.user.username or "").casefold() == wanted:
                return member.user.id
        return ref

    def _normalise(
        self, draft: rules.AcceptanceDraft, team: m.TeamProfile, members: list[m.TeamMember] | None
    ) -> rules.AcceptanceDraft:
        members = members or []
        return dataclasses.replace(
            draft,
            team_id=team.id,
            active_roster=tuple(self._resolve_user(u, members) for u in draft.active_roster),
            bench=tuple(
                rules.BenchEntry(self._resolve_user(b.user_id, members), b.priority)
                for b in draft.bench
            ),
        )

    async def _team_facts(
        self, team: m.TeamProfile, members: list[m.TeamMember] | None
    ) -> rules.TeamFacts:
        return rules.TeamFacts(
            id=team.id,
            game_id=await self.canonical_game(team.game_id),
            members={mb.user.id: role_of(mb.role) for mb in members or []},
            name=team.name,
        )

    async def acceptance_facts(self, match_id: str) -> list[rules.AcceptanceFacts]:
        """What the acceptance form checks a draft against: one AcceptanceFacts per team that
        could answer ``match_id`` (the challenged team of a challenge, else every team I lead)."""
        match = await self.client.get_match(match_id)
        game_id = await self.canonical_game(match.game.id) or match.game.id
        players = [p.user_id for p in await self.client.match_players(match.id)]
        facts_match = match_facts(match, game_id, players)
        game = game_facts(await self.game_entry(match.game.id), game_id)
        me = await self.me()
        if match.challenged_team is not None:
            team_ids = [match.challenged_team.id]
        else:
            team_ids = [t.id for t in await self.led_teams() or []]
        out = []
        for team_id in team_ids:
            team, members = await self._team_and_members(team_id)
            out.append(
                rules.AcceptanceFacts(
                    owner_id=me or "",
                    match=facts_match,
                    team=await self._team_facts(team, members),
                    game=game,
                    pending_team_ids=self.requests.pending_team_ids(match.id),
                    now=self.client.now(),
                )
            )
        return out

    @staticmethod
    def _judgeable(
        found: list[rules.Violation],
        me: str | None,
        team: m.TeamProfile,
        facts: rules.TeamFacts,
        roster_known: bool,
    ) -> list[rules.Violation]:
        """The violations the client can judge fairly with what it knows; the service judges
        the rest. Unknowable: leadership when who I am is unknown or I may lead through the
        organization (no route names its owner); the roster when the key cannot see it."""
        unsure_leader = me is None or (
            team.organization_id is not None and not rules.leads_team(me, facts)
        )
        out = []
        for v in found:
            if v.code == rules.ErrorCode.NOT_TEAM_LEADER and (unsure_leader or not roster_known):
                continue
            if not roster_known and v.field in ("activeRoster", "benchRoster"):
                continue
            out.append(v)
        return out

    async def check(
        self, match: m.MatchDetail, draft: rules.AcceptanceDraft
    ) -> tuple[rules.AcceptanceDraft, list[rules.Violation]]:
        """The draft with its team and users resolved to ids, and every rule it breaks for
        ``match`` (a request for an open match, or the roster for a challenge)."""
        shape = rules.check_draft_shape(draft)
        if shape:
            return draft, shape
        team, members = await self._team_and_members(draft.team_id)
        draft = self._normalise(draft, team, members)
        facts_team = await self._team_facts(team, members)
        game_id = await self.canonical_game(match.game.id) or match.game.id
        players = [p.user_id for p in await self.client.match_players(match.id)]
        me = await self.me()
        if match.challenged_team is not None:
            found = rules.check_challenge_response(
                me or "",
                draft.roster,
                match_facts(match, game_id, players),
                facts_team,
                self.client.now(),
            )
        else:
            facts = rules.AcceptanceFacts(
                owner_id=me or "",
                match=match_facts(match, game_id, players),
                team=facts_team,
                game=game_facts(await self.game_entry(match.game.id), game_id),
                pending_team_ids=self.requests.pending_team_ids(match.id),
                now=self.client.now(),
            )
            found = rules.check_acceptance(draft, facts)
        return draft, self._judgeable(found, me, team, facts_team, members is not None)

    async def _checked(
        self, match_id: str, draft: rules.AcceptanceDraft, match: m.MatchDetail | None
    ) -> tuple[m.MatchDetail, rules.AcceptanceDraft]:
        shape = rules.check_draft_shape(draft)
        if shape:  # nothing to fetch for a draft that is wrong in itself
            raise InvalidRequest(describe_violations(shape), code=str(shape[0].code))
        if match is None:
            match = await self.client.get_match(match_id)
        draft, violations = await self.check(match, draft)
        if violations:
            raise InvalidRequest(describe_violations(violations), code=str(violations[0].code))
        return match, draft

    async def submit(
        self, match_id: str, draft: rules.AcceptanceDraft, *, match: m.MatchDetail | None = None
    ) -> AcceptanceRecord:
        """Check and send a request to play an open match, and remember it.

        A draft that breaks a rule is not sent: InvalidRequest lists every problem. The
        submission carries one Idempotency-Key, reused if it has to be retried.
        """
        match, draft = await self._checked(match_id, draft, match)
        if match.challenged_team is not None:
            raise InvalidRequest(
                f"Match {match.id} is a direct challenge to {match.challenged_team.name}; "
                "it is answered by accepting or refusing the challenge, not with a request."
            )
        body = acceptance_body(draft)
        # A submission that failed without an answer may have been applied: sending the same
        # request again reuses its key, so the service replays its answer instead of refusing
        # a second request (and the acceptance id is not lost).
        same = (match.id, json.dumps(body.wire(), sort_keys=True))
        key = self._unsettled.pop(same, None) or new_idempotency_key()
        try:
            answer = await self.client.create_acceptance(match.id, body, idempotency_key=key)
        except BackendError as error:
            if error.retryable:
                self._unsettled[same] = key
            raise
        record = self.requests.add(
            AcceptanceRecord(
                acceptance_id=answer.acceptance_id,
                match_id=match.id,
                team_id=draft.team_id,
                payload=body.wire(),
                submitted_at=self.client.now(),
                idempotency_key=key,
            )
        )
        self._notify(record)
        return record

    async def accept_challenge(
        self, match_id: str, draft: rules.AcceptanceDraft, *, match: m.MatchDetail | None = None
    ) -> m.MatchDetail:
        """Take up a direct challenge to my team with the draft's roster."""
        match, draft = await self._checked(match_id, draft, match)
        if match.challenged_team is None:
            raise InvalidRequest(f"Match {match.id} is an open match, not a challenge.")
        body = m.AcceptChallengeRequestBody(
            active_roster=list(draft.active_roster), bench_roster=bench_body(draft)
        )
        await self.client.accept_challenge(match.id, body)
        self._offered.pop(match.id, None)
        return match

    async def accept(self, offer_id: str, answer: object) -> str:
        """Send a request for an open match, or take up a challenge; ``answer`` is an
        :class:`~lobby.teambattles.rules.AcceptanceDraft`."""
        if not isinstance(answer, rules.AcceptanceDraft):
            raise InvalidRequest("A TeamBattles answer needs a team and a roster.")
        match = await self.client.get_match(offer_id)
        if match.challenged_team is not None:
            await self.accept_challenge(offer_id, answer, match=match)
            return f"Challenge {offer_id} accepted; the match is on."
        record = await self.submit(offer_id, answer, match=match)
        return (
            f"Request {record.acceptance_id} sent for match {offer_id}; "
            "waiting for the creator's answer."
        )

    async def reject(self, offer_id: str, answer: object) -> str:
        """Refuse a direct challenge; ``answer`` is an optional reason. Open matches need no
        refusal (and TeamBattles has none): they simply go unanswered."""
        reason = answer if isinstance(answer, str) and answer.strip() else None
        rule_problems = rules.rule_message(reason, field="reason", limit=rules.REASON_MAX_LENGTH)
        if rule_problems:
            raise InvalidRequest(describe_violations(rule_problems), code=str(rule_problems[0].code))
        match = await self.client.get_match(offer_id)
        if match.challenged_team is None:
            raise InvalidRequest(
                f"Match {offer_id} is an open match, not a challenge: there is nothing to refuse. "
                "Leave it unanswered."
            )
        team, members = await self._team_and_members(match.challenged_team.id)
        facts_team = await self._team_facts(team, members)
        me = await self.me()
        game_id = await self.canonical_game(match.game.id) or match.game.id
        refusal = rules.check_challenge_refusal(
            me or "", match_facts(match, game_id), facts_team, self.client.now()
        )
        found = self._judgeable(
            refusal,
            me,
            team,
            facts_team,
            members is not None,
        )
        if found:
            raise InvalidRequest(describe_violations(found), code=str(found[0].code))
        await self.client.refuse_challenge(offer_id, m.RefuseChallengeRequestBody(reason=reason))
        self._offered.pop(offer_id, None)
        return f"Challenge {offer_id} refused."

    # --- my requests -----------------------------------------------------------------------------

    def _feed_state(self, state: FeedState) -> None:
        self.feed_state = state
        if state is FeedState.LIVE:
            self.feed_live.set()
        else:
            self.feed_live.clear()

    def _notify(self, record: AcceptanceRecord | None) -> None:
        if record is not None and self._on_request is not None:
            self._on_request(record)

    def _apply_match(self, match: m.MatchDetail) -> None:
        for record in self.requests.for_match(match.id):
            status, note = derive_status(record.team_id, record.status, match)
            if self.requests.set_status(record.acceptance_id, status, note, at=self.client.now()):
                self._notify(self.requests.get(record.acceptance_id))

    async def refresh_requests(self) -> list[AcceptanceRecord]:
        """Bring every unsettled request up to date from its match; returns them all.

        A match the service no longer knows keeps its request's last status, with a note.
        """
        open_statuses = {rules.AcceptanceStatus.PENDING, rules.AcceptanceStatus.APPROVED}
        matches = sorted({r.match_id for r in self.requests.all() if r.status in open_statuses})
        for match_id in matches:
            try:
                match = await self.client.get_match(match_id)
            except NotFound:
                for record in self.requests.for_match(match_id):
                    self.requests.set_status(
                        record.acceptance_id, record.status, "The service no longer knows this match."
                    )
                continue
            self._apply_match(match)
        return self.requests.all()

    def _apply_acceptance_event(self, kind: str, data: dict[str, Any]) -> None:
        """The emulator's own acceptance events say exactly what happened to a request."""
        acceptance = data.get("acceptance")
        if not isinstance(acceptance, dict) or not isinstance(acceptance.get("id"), str):
            return
        try:
            status = rules.AcceptanceStatus(str(acceptance.get("status", "")).upper())
        except ValueError:
            return
        note = {
            rules.AcceptanceStatus.DECLINED: "The creator declined it.",
            rules.AcceptanceStatus.SUPERSEDED: "The creator approved another team.",
            rules.AcceptanceStatus.CANCELLED: "The match was cancelled.",
            rules.AcceptanceStatus.APPROVED: "Approved.",
        }.get(status)
        reply = acceptance.get("responseMessage")
        if isinstance(reply, str) and reply and note:
            note = f"{note} Reply: {reply}"
        if self.requests.set_status(acceptance["id"], status, note, at=self.client.now()):
            self._notify(self.requests.get(acceptance["id"]))

    # --- changes ---------------------------------------------------------------------------------

    def changes(self) -> AsyncIterator[Change]:
        if self.feed_url:
            return self._feed_changes(self.feed_url)
        return self._polled_changes()

    async def _change_for(
        self, match: m.MatchDetail, mine: _Mine, event_id: str | None
    ) -> Change | None:
        kind = await self._offer_kind(match, mine)
        if kind is not None:
            offer = offer_from_match(match, kind)
            if self._offered.get(match.id) == offer:
                return None
            self._offered[match.id] = offer
            return OfferUpdated(offer=offer, event_id=event_id)
        old = self._offered.pop(match.id, None)
        if old is None:
            return None
        return OfferClosed(
            kind=old.kind,
            id=match.id,
            status=match.status.value,
            outcome=closed_outcome(match, mine.teams or frozenset()),
            event_id=event_id,
        )

    async def _feed_changes(self, url: str) -> AsyncIterator[Change]:
        """Changes from the emulator's event stream: from the moment of the call on (the
        requests are brought up to date first, so nothing between is missed)."""
        mine = await self._context()
        timeout = httpx.Timeout(10.0, read=None)
        transport = self._feed_transport if self._feed_transport is not None else shared_transport()
        async with httpx.AsyncClient(transport=transport, timeout=timeout) as http:
            start = 0
            try:
                start = (await handshake(http, url)).last_event_id
            except (httpx.HTTPError, NotAnEmulator):
                log.debug("no event position from %s; reading the stream from its start", url)
            try:
                await self.refresh_requests()
            except (NotFound, Throttled, Unavailable) as error:
                log.debug("could not refresh requests before following events: %s", error)
            feed = EventFeed(
                http, url, sources=["teambattles"], last_event_id=start, on_state=self._feed_state
            )
            events = feed.__aiter__()
            try:
                async for event in events:
                    change = await self._apply_event(event, mine)
                    if change is not None:
                        yield change
            finally:
                with contextlib.suppress(Exception):
                    await events.aclose()  # type: ignore[attr-defined]

    async def _apply_event(self, event: FeedEvent, mine: _Mine) -> Change | None:
        data = event.data.get("data") if isinstance(event.data.get("data"), dict) else None
        if data is None:
            return None
        if event.type in ACCEPTANCE_EVENTS:
            self._apply_acceptance_event(event.type, data)
        raw = data.get("match")
        if not isinstance(raw, dict):
            return None
        try:
            match = m.MatchDetail.model_validate(raw)
        except ValueError:
            log.debug("event %s: match not understood", event.id)
            return None
        self._apply_match(match)
        return await self._change_for(match, mine, str(event.id))

    async def _polled_changes(self) -> AsyncIterator[Change]:
        """Poll offers and requests, paced by the rate-limit headers; yield what changed."""
        failures = 0
        while True:
            await self.client.pacer.before_poll()
            try:
                before = dict(self._offered)
                mine = await self._context()
                offers = await self.list_offers()
                await self.refresh_requests()
                failures = 0
            except (AuthenticationFailed, PermissionDenied, NotConfigured, ProtocolError):
                raise
            except Throttled:
                # The pacer knows from Retry-After / the headers how long to wait; without
                # either, wait one interval rather than ask again at once.
                if self.client.pacer.wait_needed() <= 0:
                    await self._sleep(self.poll_interval)
                continue
            except BackendError as error:
                failures += 1
                log.debug("poll failed: %s", error)
                await self._sleep(min(self.poll_interval * 2 ** min(failures, 4), 300.0))
                continue
            for offer in offers:
                if before.get(offer.id) != offer:
                    yield OfferUpdated(offer=offer)
            for gone_id, old in before.items():
                if gone_id in self._offered:
                    continue
                try:
                    match = await self.client.get_match(gone_id)
                    outcome = closed_outcome(match, mine.teams or frozenset())
                    status = match.status.value
                except BackendError:
                    outcome, status = "The match is no longer open.", "UNKNOWN"
                yield OfferClosed(kind=old.kind, id=gone_id, status=status, outcome=outcome)
            await self._sleep(self.poll_interval)
