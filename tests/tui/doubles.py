"""A small in-memory OfferBackend serving fixed offers: an honest double for layout tests and
snapshots, with a real in-memory RequestBook. Flow tests use the real adapters against the
emulator instead."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator, Callable, Iterable
from datetime import UTC, datetime, timedelta

from lobby.core.backend import Capabilities, FeedState, MyRequest, RequestBook, Unsubscribe
from lobby.core.errors import BackendError
from lobby.core.offers import Change, Offer, OfferKind
from lobby.teambattles import matches
from lobby.core import answers

T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


class MemoryRequestBook:
    """The requests a backend recorded, in memory, pushed to each subscriber as they change."""

    def __init__(self, requests: Iterable[MyRequest] = ()) -> None:
        self._requests = {r.acceptance_id: r for r in requests}
        self._listeners: list[Callable[[MyRequest], None]] = []
        #: How many times current() was read.
        self.reads = 0

    def current(self) -> list[MyRequest]:
        self.reads += 1
        return list(self._requests.values())

    def subscribe(self, listener: Callable[[MyRequest], None]) -> Unsubscribe:
        self._listeners.append(listener)

        def unsubscribe() -> None:
            if listener in self._listeners:
                self._listeners.remove(listener)

        return unsubscribe

    @property
    def subscribers(self) -> int:
        return len(self._listeners)

    def record(self, request: MyRequest) -> None:
        """A request was sent, or its status changed: every subscriber hears of it."""
        self._requests[request.acceptance_id] = request
        for listener in list(self._listeners):
            listener(request)


class FixedBackend:
    """Serves ``offers``; ``changes`` yields what tests put on :attr:`queue`. With ``requests``,
    each answer is recorded there as a pending request; ``feed`` is its feed's state (None:
    it has no feed); ``notice`` is what it says the user must be told (None: nothing)."""

    def __init__(
        self,
        name: str,
        offers: Iterable[Offer] = (),
        *,
        fail: BackendError | None = None,
        hang: bool = False,
        answer_error: BackendError | None = None,
        note: str = "Recorded.",
        requests: RequestBook | None = None,
        feed: FeedState | None = None,
        notice: str | None = None,
    ) -> None:
        self.name = name
        self.offers = list(offers)
        self.fail = fail
        self.hang = hang
        self.answer_error = answer_error
        self.note = note
        self.queue: asyncio.Queue[Change] = asyncio.Queue()
        self.calls: list[tuple[str, str, object]] = []
        self.closed = False
        self.requests = requests
        self.feed = feed
        self.notice = notice

    @property
    def capabilities(self) -> Capabilities:
        feed_state = None if self.feed is None else self._feed_state
        return Capabilities(feed_state=feed_state, requests=self.requests, notice=lambda: self.notice)

    def _feed_state(self) -> FeedState:
        return self.feed or FeedState.CLOSED

    async def list_offers(self) -> list[Offer]:
        if self.hang:
            await asyncio.Event().wait()
        if self.fail is not None:
            raise self.fail
        return list(self.offers)

    async def changes(self) -> AsyncIterator[Change]:
        while True:
            yield await self.queue.get()

    async def accept(self, offer_id: str, answer: object) -> str:
        self.calls.append(("accept", offer_id, answer))
        if self.answer_error is not None:
            raise self.answer_error
        if isinstance(self.requests, MemoryRequestBook):
            self.requests.record(MyRequest(match_id=offer_id, acceptance_id=f"acc-{offer_id}", status="PENDING"))
        return self.note

    async def reject(self, offer_id: str, answer: object) -> str:
        self.calls.append(("reject", offer_id, answer))
        if self.answer_error is not None:
            raise self.answer_error
        return self.note

    async def aclose(self) -> None:
        self.closed = True


def ticket(id: str = "t-ana", *, seconds: float = 42, progress=(7, 10), players=("ana", "bo"), title: str = "Ranked 5v5 · eu-west", **facts: str) -> Offer:
    return Offer(
        kind=OfferKind.FLEXMATCH_TICKET,
        id=id,
        title=title,
        status="REQUIRES_ACCEPTANCE",
        deadline=T0 + timedelta(seconds=seconds),
        players=tuple(players),
        progress=progress,
        facts={"configuration": "ranked-5v5", "match": "m-1a2b", **facts},
    )


def open_match(
    id: str,
    title: str,
    *,
    minutes: float,
    game: str,
    region: str,
    platform: str = "PC",
    match_type: str = "SCRIM",
    size: int = 4,
    game_id: str = "gm_skyline",
    mode: str = "hardpoint",
) -> Offer:
    return Offer(
        kind=OfferKind.TEAMBATTLES_MATCH,
        id=id,
        title=title,
        status="PENDING",
        deadline=T0 + timedelta(minutes=minutes),
        facts={
            "game": game,
            "gameId": game_id,
            "mode": mode,
            "teamSize": str(size),
            "bestOf": "3",
            "creatorTeam": "Viper Syndicate",
            "region": region,
            "platform": platform,
            "matchType": match_type,
        },
    )


def challenge(id: str = "c-1", *, minutes: float = 25) -> Offer:
    return Offer(
        kind=OfferKind.TEAMBATTLES_CHALLENGE,
        id=id,
        title="Ember Foxes challenge you",
        status="PENDING",
        deadline=T0 + timedelta(minutes=minutes),
        facts={
            "game": "Skyline Strike",
            "gameId": "gm_skyline",
            "mode": "control",
            "teamSize": "4",
            "bestOf": "1",
            "creatorTeam": "Ember Foxes",
            "challengedTeam": "Night Owls",
        },
    )


def demo_offers() -> tuple[list[Offer], list[Offer]]:
    """(FlexMatch offers, TeamBattles offers) of a small, fixed lobby."""
    flex = [ticket()]
    tb = [
        challenge(),
        open_match("m-101", "Friday scrim, EU evening", minutes=95, game="Skyline Strike", region="EU"),
        open_match("m-102", "Need a 4-stack for ranked practice", minutes=180, game="Skyline Strike", region="NA"),
        open_match("m-103", "2v2 duel night", minutes=30, game="Iron Tide", region="EU", size=2, match_type="LADDER", game_id="gm_irontide", mode="siege"),
    ]
    return flex, tb


# --- TeamBattles facts: the demo's teams, as the domain rules see them ------------------------

ME = "u_you"
R = answers.TeamRole
OWLS = answers.TeamFacts(
    id="t_owls",
    game_id="gm_skyline",
    name="Night Owls",
    members={"u_you": R.CAPTAIN, "u_eli": R.CO_CAPTAIN, "u_ada": R.MEMBER, "u_bo": R.MEMBER, "u_cy": R.MEMBER, "u_dee": R.MEMBER},
)
TIGERS = answers.TeamFacts(
    id="t_tigers",
    game_id="gm_irontide",
    name="Paper Tigers",
    members={"u_kai": R.CAPTAIN, "u_you": R.CO_CAPTAIN, "u_lu": R.MEMBER, "u_mo": R.MEMBER},
)
WOLVES = answers.TeamFacts(
    id="t_wolves",
    game_id="gm_skyline",
    name="Lone Wolves",
    members={"u_rex": R.CAPTAIN, "u_you": R.MEMBER, "u_sam": R.MEMBER},
)
#: A team I lead that is banned from competitive play (the demo's Rusty Anchors).
ANCHORS = answers.TeamFacts(
    id="t_anchors",
    game_id="gm_skyline",
    name="Rusty Anchors",
    members={"u_you": R.CAPTAIN, "u_ada": R.MEMBER, "u_bo": R.MEMBER, "u_cy": R.MEMBER},
    competitive_banned=True,
)
SKYLINE = answers.GameFacts(
    id="gm_skyline",
    maps={"harbor": True, "foundry": True, "rooftops": True, "canal": True, "orbital": False, "citadel": False},
    mode_pools={
        "hardpoint": ("harbor", "foundry", "rooftops", "orbital"),
        "control": ("foundry", "canal", "citadel"),
    },
)
IRONTIDE = answers.GameFacts(id="gm_irontide", maps={"reef": True, "bastion": True}, mode_pools={"siege": ("reef", "bastion")})


def match_facts(offer: Offer) -> answers.MatchFacts:
    facts = offer.facts
    return answers.MatchFacts(
        id=offer.id,
        status=answers.MatchStatus.PENDING,
        publish_status=answers.PublishStatus.PUBLISHED,
        game_id=facts["gameId"],
        game_mode=facts["mode"],
        team_size=int(facts["teamSize"]),
        creator_team_id="t_foxes" if offer.kind is OfferKind.TEAMBATTLES_CHALLENGE else "t_vipers",
        challenged_team_id="t_owls" if offer.kind is OfferKind.TEAMBATTLES_CHALLENGE else None,
        scheduled_at=offer.deadline,
    )


class FixedTeamBattles(FixedBackend):
    """FixedBackend plus an acceptance desk for the demo's teams: fixed facts, judged by the real
    TeamBattles functions (the teams offered, the violations the client can judge)."""

    def __init__(self, offers: Iterable[Offer] = (), **kw) -> None:
        super().__init__("teambattles", offers, **kw)
        self.facts_error: BackendError | None = None
        #: The teams whose facts are given (the desk offers those I lead that play the game).
        self.teams: tuple[answers.TeamFacts, ...] = (OWLS, TIGERS, WOLVES)

    @property
    def capabilities(self) -> Capabilities:
        return dataclasses.replace(super().capabilities, acceptance=self)

    def offered(self, facts):
        return matches.eligible_teams(facts)

    def violations(self, draft, facts, now):
        return matches.judge(draft, dataclasses.replace(facts, now=now))

    async def acceptance_facts(self, match_id: str) -> list[answers.AcceptanceFacts]:
        if self.facts_error is not None:
            raise self.facts_error
        offer = next(o for o in self.offers if o.id == match_id)
        match = match_facts(offer)
        game = SKYLINE if match.game_id == "gm_skyline" else IRONTIDE
        return [
            answers.AcceptanceFacts(owner_id=ME, match=match, team=team, game=game)
            for team in self.teams
        ]


def text_of(renderable: object, width: int = 120) -> str:
    """What a rich renderable shows, as plain text."""
    import io

    from rich.console import Console

    console = Console(width=width, file=io.StringIO(), record=True, color_system=None)
    console.print(renderable)
    return console.export_text()


async def settle(pilot, node) -> None:
    """Wait until the workers ``node`` started are done (the app's backend followers never are)."""
    mine = [w for w in pilot.app.workers if w.node is node]
    if mine:
        await pilot.app.workers.wait_for_complete(mine)
    await pilot.pause()


#: Seconds to wait for a condition before calling it a hang: a guard only, never a measure of speed.
HANG = 20


async def until(pilot, condition: Callable[[], object], what: str = "the condition") -> None:
    """Let the app run until ``condition()`` holds, then let it draw (fails after HANG seconds)."""
    try:
        async with asyncio.timeout(HANG):
            while not condition():
                await pilot.pause(0.02)
    except TimeoutError:
        raise AssertionError(f"still waiting for {what} after {HANG} s") from None
    await pilot.pause()


def focused_on(pilot, screen_type: type, selector: str | type) -> Callable[[], bool]:
    """A condition: the app shows a ``screen_type`` and ``selector`` on it has the focus."""

    def shown() -> bool:
        screen = pilot.app.screen
        return isinstance(screen, screen_type) and any(w.has_focus for w in screen.query(selector))

    return shown
