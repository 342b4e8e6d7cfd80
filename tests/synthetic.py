"""Events shaped exactly like the real ones, made up: for tests, pictures and benchmarks.

:func:`flexmatch_event` builds an EventBridge envelope of a FlexMatch event and
:func:`teambattles_event` a TeamBattles webhook-shaped event, as the emulator sends them.
:class:`SyntheticLobby` plays a whole lobby: a steady number of live tickets moving through
search, proposal, answers and placement, at a given number of events per second; the same
seed gives the same events.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
from collections.abc import AsyncIterator, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

from lobby.core.events import EventSource
from lobby.flexmatch.lifecycle import AcceptanceOutcome, EventType

ACCOUNT = "123456789012"
REGION = "us-east-1"

#: (player id, team or None, answer: True/False/None for not yet)
PlayerSpec = tuple[str, str | None, bool | None]
#: (ticket id, start time, players)
TicketSpec = tuple[str, float, Sequence[PlayerSpec]]


def iso(epoch: float) -> str:
    """Epoch seconds as the events write them: ISO 8601, milliseconds, ``Z``."""
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _tickets(tickets: Sequence[TicketSpec], answers: bool) -> list[dict[str, Any]]:
    out = []
    for ticket_id, start, players in tickets:
        entries = []
        for player_id, team, answer in players:
            entry: dict[str, Any] = {"playerId": player_id}
            if team:
                entry["team"] = team
            if answers and answer is not None:
                entry["accepted"] = answer
            entries.append(entry)
        out.append({"ticketId": ticket_id, "startTime": iso(start), "players": entries})
    return out


def flexmatch_event(
    kind: EventType,
    *,
    uid: str,
    time: float,
    tickets: Sequence[TicketSpec],
    configuration: str = "ranked-5v5",
    **detail: Any,
) -> dict[str, Any]:
    """An EventBridge "GameLift Matchmaking Event" envelope; ``detail`` adds members such as
    matchId, acceptanceRequired, acceptanceTimeout, acceptance, reason, message."""
    body: dict[str, Any] = {"type": kind, "tickets": _tickets(tickets, kind == EventType.ACCEPT_MATCH)}
    body.update({k: v for k, v in detail.items() if v is not None})
    return {
        "version": "0",
        "id": uid,
        "detail-type": "GameLift Matchmaking Event",
        "source": EventSource.GAMELIFT,
        "account": ACCOUNT,
        "time": iso(time),
        "region": REGION,
        "resources": [f"arn:aws:gamelift:{REGION}:{ACCOUNT}:matchmakingconfiguration/{configuration}"],
        "detail": body,
    }


def sns_wrap(envelope: dict[str, Any], *, message_id: str, time: float) -> dict[str, Any]:
    """The envelope as an SNS notification delivers it to SQS (not raw)."""
    import json

    return {
        "Type": "Notification",
        "MessageId": message_id,
        "TopicArn": f"arn:aws:sns:{REGION}:{ACCOUNT}:flexmatch-events",
        "Message": json.dumps(envelope),
        "Timestamp": iso(time),
        "SignatureVersion": "1",
    }


def match_doc(
    match_id: str,
    *,
    status: str = "PENDING",
    game: str = "Skyline Strike",
    mode: str = "hardpoint",
    creator: tuple[str, str] = ("t_vipers", "Vipers"),
    accepted: tuple[str, str] | None = None,
    created: float,
    scheduled: float | None = None,
    team_size: int = 4,
) -> dict[str, Any]:
    """A TeamBattles ``ApiMatchDetail``."""

    def team(spec: tuple[str, str] | None) -> dict[str, Any] | None:
        if spec is None:
            return None
        return {"id": spec[0], "name": spec[1], "tag": spec[1][:4].upper(), "avatarUrl": None, "score": None}

    return {
        "id": match_id,
        "status": status,
        "publishStatus": "PUBLISHED",
        "game": {"id": game.lower().replace(" ", "-"), "nameKey": game},
        "gameMode": mode,
        "matchType": "XP_ONLY",
        "platform": "PC",
        "region": "EU",
        "creatorTeam": team(creator),
        "acceptedTeam": team(accepted),
        "challengedTeam": None,
        "bestOf": 3,
        "teamSize": team_size,
        "selectedMaps": [],
        "selectedObjectives": [],
        "winnerTeamId": None,
        "scheduledAt": iso(scheduled) if scheduled is not None else None,
        "startedAt": None,
        "completedAt": None,
        "createdAt": iso(created),
        "leagueId": None,
        "leagueSeasonId": None,
    }


def teambattles_event(kind: str, *, uid: str, time: float, match: dict[str, Any], **data: Any) -> dict[str, Any]:
    """A webhook-shaped TeamBattles event about ``match``."""
    return {"id": uid, "event": kind, "created_at": iso(time), "data": {"match": match, **data}}


class SyntheticLobby:
    """A lobby of ``live`` tickets at about ``rate`` events per second, forever.

    Tickets hold one to three players in configurations of two teams; every second some start
    searching, pairs are proposed, players answer (mostly accept), rounds end (accepted, now
    and then rejected or timed out) and matches are placed and completed, while new tickets
    keep the number of live ones near ``live``. :meth:`initial` are the events that bring the
    lobby to ``live`` tickets searching; :meth:`second` the events of one more second.
    """

    CONFIGURATIONS = ("ranked-5v5", "arena-3v3", "duel-1v1", "casual-4v4")

    def __init__(self, *, live: int = 10_000, rate: int = 1_000, start: float = 1_767_268_800.0, seed: int = 7) -> None:
        self.live = live
        self.rate = rate
        self.now = start
        self.rng = random.Random(seed)
        self._ids = 0
        self._events = 0
        self.searching: list[tuple[str, float, list[str], str]] = []
        #: match id -> (tickets, answers, deadline, stalled: nobody answers any more)
        self.proposed: dict[str, tuple[list[tuple[str, float, list[str], str]], dict[str, bool | None], float, bool]] = {}
        self.placing: list[tuple[str, list[tuple[str, float, list[str], str]], float]] = []

    def _uid(self) -> str:
        self._events += 1
        return f"syn-{self._events:09d}"

    def _ticket(self) -> tuple[str, float, list[str], str]:
        self._ids += 1
        size = self.rng.choice((1, 1, 1, 2, 3))
        players = [f"p{self._ids:06d}-{n}" for n in range(size)]
        return (f"tk-{self._ids:07d}", self.now, players, self.rng.choice(self.CONFIGURATIONS))

    @staticmethod
    def _spec(ticket: tuple[str, float, list[str], str], team: str | None = None, answers: dict | None = None) -> TicketSpec:
        ticket_id, start, players, _ = ticket
        return (ticket_id, start, [(p, team, (answers or {}).get(p)) for p in players])

    def _search(self, ticket: tuple[str, float, list[str], str]) -> dict[str, Any]:
        self.searching.append(ticket)
        return flexmatch_event(
            EventType.SEARCHING, uid=self._uid(), time=self.now, tickets=[self._spec(ticket)], configuration=ticket[3]
        )

    def initial(self) -> list[dict[str, Any]]:
        return [self._search(self._ticket()) for _ in range(self.live)]

    def live_count(self) -> int:
        return len(self.searching) + sum(len(t) for t, _, _, _ in self.proposed.values()) + sum(len(t) for _, t, _ in self.placing)

    def second(self) -> list[dict[str, Any]]:
        """About ``rate`` events one second later than the previous call."""
        self.now += 1.0
        out: list[dict[str, Any]] = []
        budget = self.rate
        rng = self.rng
        # Placed matches complete.
        while self.placing and budget > 0 and self.placing[0][2] <= self.now - 3:
            match_id, tickets, _ = self.placing.pop(0)
            out.append(
                flexmatch_event(
                    EventType.SUCCEEDED,
                    uid=self._uid(),
                    time=self.now,
                    tickets=[self._spec(t, team) for t, team in zip(tickets, ("red", "blue"), strict=False)],
                    configuration=tickets[0][3],
                    matchId=match_id,
                    gameSessionInfo={"ipAddress": "10.0.0.1", "port": 7777, "players": []},
                )
            )
            budget -= 1
        # Answers and round ends.
        for match_id in list(self.proposed):
            if budget <= 0:
                break
            tickets, answers, deadline, stalled = self.proposed[match_id]
            pending = [p for p, a in answers.items() if a is None]
            specs = [self._spec(t, team, answers) for t, team in zip(tickets, ("red", "blue"), strict=False)]
            config = tickets[0][3]
            if pending and self.now < deadline and not stalled:
                for player in pending:
                    if budget <= 0 or rng.random() < 0.4:
                        continue
                    answers[player] = rng.random() > 0.02
                    specs = [self._spec(t, team, answers) for t, team in zip(tickets, ("red", "blue"), strict=False)]
                    out.append(flexmatch_event(EventType.ACCEPT_MATCH, uid=self._uid(), time=self.now, tickets=specs, configuration=config, matchId=match_id))
                    budget -= 1
                    if answers[player] is False:
                        break
                pending = [p for p, a in answers.items() if a is None]
            if pending and self.now < deadline and all(a is not False for a in answers.values()):
                continue
            outcome = (
                AcceptanceOutcome.REJECTED
                if any(a is False for a in answers.values())
                else (AcceptanceOutcome.ACCEPTED if all(answers.values()) else AcceptanceOutcome.TIMED_OUT)
            )
            del self.proposed[match_id]
            out.append(
                flexmatch_event(
                    EventType.ACCEPT_MATCH_COMPLETED, uid=self._uid(), time=self.now, tickets=specs, configuration=config, matchId=match_id, acceptance=outcome
                )
            )
            budget -= 1
            if outcome is AcceptanceOutcome.ACCEPTED:
                self.placing.append((match_id, tickets, self.now))
            else:
                for ticket in tickets:
                    mine = [answers.get(p) for p in ticket[2]]
                    if all(a is True for a in mine):
                        out.append(self._search(ticket))
                    else:
                        out.append(
                            flexmatch_event(
                                EventType.CANCELLED,
                                uid=self._uid(),
                                time=self.now,
                                tickets=[self._spec(ticket)],
                                configuration=ticket[3],
                                reason="CANCELLED",
                                message="The proposed match was not accepted.",
                            )
                        )
                    budget -= 1
        # New proposals, pairing searching tickets.
        for _ in range(self.rate // 12):
            if budget <= 4 or len(self.searching) < 2:
                break
            a = self.searching.pop(rng.randrange(len(self.searching)))
            b = self.searching.pop(rng.randrange(len(self.searching)))
            self._ids += 1
            match_id = f"mt-{self._ids:07d}"
            answers = {p: None for t in (a, b) for p in t[2]}
            self.proposed[match_id] = ([a, b], answers, self.now + 30, rng.random() < 0.05)
            out.append(
                flexmatch_event(
                    EventType.POTENTIAL_MATCH_CREATED,
                    uid=self._uid(),
                    time=self.now,
                    tickets=[self._spec(a, "red"), self._spec(b, "blue")],
                    configuration=a[3],
                    matchId=match_id,
                    acceptanceRequired=True,
                    acceptanceTimeout=30,
                )
            )
            budget -= 1
        # New tickets keep the lobby at its size; the rest of the budget re-reports searches.
        while budget > 0:
            if self.live_count() < self.live:
                out.append(self._search(self._ticket()))
            elif self.searching:
                ticket = self.searching.pop(rng.randrange(len(self.searching)))
                out.append(self._search(ticket))
            else:
                break
            budget -= 1
        return out

    def seconds(self, n: int) -> Iterator[list[dict[str, Any]]]:
        for _ in range(n):
            yield self.second()


def sample_lobby(t0: float) -> list[dict[str, Any]]:
    """A small lobby with a row in every state worth seeing, as of ``t0``: tickets searching,
    awaiting answers (one nearly out of time), placing, completed, cancelled and timed out;
    TeamBattles matches open with requests, accepted, under way and cancelled; and one ticket
    whose player id carries markup and terminal escapes (it must show literally)."""
    out: list[dict[str, Any]] = []
    n = 0

    def fm(kind: EventType, at: float, tickets: Sequence[TicketSpec], configuration: str = "ranked-5v5", **detail: Any) -> None:
        nonlocal n
        n += 1
        out.append(flexmatch_event(kind, uid=f"sample-{n:04d}", time=at, tickets=tickets, configuration=configuration, **detail))

    def tb(kind: str, at: float, match: dict[str, Any], **data: Any) -> None:
        nonlocal n
        n += 1
        out.append(teambattles_event(kind, uid=f"whd_{n:07d}", time=at, match=match, **data))

    def tk(ticket_id: str, start: float, players: Sequence[str], team: str | None = None, answers: dict | None = None) -> TicketSpec:
        return (ticket_id, start, [(p, team, (answers or {}).get(p)) for p in players])

    # A five-a-side proposal, 5 of 7 accepted, 25 s left.
    ayla = ("t-ayla-0001", t0 - 95, ["captain-ayla", "mate-bruno", "mate-chen"])
    bots = ("t-bots-0012", t0 - 70, ["bot-012", "bot-013", "bot-014", "bot-015"])
    fm(EventType.SEARCHING, ayla[1], [tk(*ayla)])
    fm(EventType.SEARCHING, bots[1], [tk(*bots)])
    pair = [tk(*ayla, team="red"), tk(*bots, team="blue")]
    fm(EventType.POTENTIAL_MATCH_CREATED, t0 - 20, pair, matchId="m-7f3a91", acceptanceRequired=True, acceptanceTimeout=45)
    said: dict[str, bool] = {}
    for i, player in enumerate(["bot-012", "captain-ayla", "bot-013", "mate-bruno", "bot-014"]):
        said[player] = True
        fm(EventType.ACCEPT_MATCH, t0 - 18 + i * 2, [tk(*ayla, team="red", answers=said), tk(*bots, team="blue", answers=said)], matchId="m-7f3a91")
    # A duel with 8 s left, 1 of 2 accepted.
    dara = ("t-dara-0002", t0 - 64, ["mate-dara"])
    b29 = ("t-bot-0029", t0 - 61, ["bot-029"])
    fm(EventType.SEARCHING, dara[1], [tk(*dara)], "duel-1v1")
    fm(EventType.SEARCHING, b29[1], [tk(*b29)], "duel-1v1")
    duel = [tk(*dara, team="challenger"), tk(*b29, team="defender")]
    fm(EventType.POTENTIAL_MATCH_CREATED, t0 - 52, duel, "duel-1v1", matchId="m-d0e1", acceptanceRequired=True, acceptanceTimeout=60)
    fm(EventType.ACCEPT_MATCH, t0 - 40, [tk(*dara, team="challenger"), tk(*b29, team="defender", answers={"bot-029": True})], "duel-1v1", matchId="m-d0e1")
    # Searching, for a while or just now.
    for ticket_id, start, players, config in (
        ("t-bot-0031", t0 - 12, ["bot-031"], "arena-3v3"),
        ("t-bot-0040", t0 - 200, ["bot-040", "bot-041"], "ranked-5v5"),
        ("t-bot-0044", t0 - 3, ["bot-044"], "skirmish-ffa"),
        ("t-bot-0047", t0 - 41, ["bot-047", "bot-048", "bot-049"], "arena-3v3"),
    ):
        fm(EventType.SEARCHING, start, [tk(ticket_id, start, players)], config)
    # Literal text: markup and escapes in a player id.
    evil = ("t-odd-0666", t0 - 33, ["[b]mallory[/b]\x1b]0;pwned\x07\x1b[31m"])
    fm(EventType.SEARCHING, evil[1], [tk(*evil)], "arena-3v3")
    # Accepted and being placed; earlier: completed, rejected, timed out.
    e50 = ("t-bot-0050", t0 - 80, ["bot-050"])
    e51 = ("t-bot-0051", t0 - 78, ["bot-051"])
    pair = [tk(*e50, team="challenger"), tk(*e51, team="defender")]
    fm(EventType.POTENTIAL_MATCH_CREATED, t0 - 30, pair, "duel-1v1", matchId="m-5051", acceptanceRequired=True, acceptanceTimeout=60)
    both = {"bot-050": True, "bot-051": True}
    fm(EventType.ACCEPT_MATCH, t0 - 4, [tk(*e50, team="challenger", answers=both), tk(*e51, team="defender", answers=both)], "duel-1v1", matchId="m-5051")
    fm(EventType.ACCEPT_MATCH_COMPLETED, t0 - 4, pair, "duel-1v1", matchId="m-5051", acceptance=AcceptanceOutcome.ACCEPTED)
    done = [tk("t-bot-0060", t0 - 150, ["bot-060"], "challenger"), tk("t-bot-0061", t0 - 140, ["bot-061"], "defender")]
    fm(EventType.POTENTIAL_MATCH_CREATED, t0 - 120, done, "duel-1v1", matchId="m-6061", acceptanceRequired=True, acceptanceTimeout=60)
    fm(EventType.ACCEPT_MATCH_COMPLETED, t0 - 110, done, "duel-1v1", matchId="m-6061", acceptance=AcceptanceOutcome.ACCEPTED)
    fm(EventType.SUCCEEDED, t0 - 100, done, "duel-1v1", matchId="m-6061", gameSessionInfo={"ipAddress": "10.0.4.2", "port": 7777})
    no = [tk("t-bot-0070", t0 - 170, ["bot-070"], "red"), tk("t-bot-0071", t0 - 160, ["bot-071"], "blue")]
    fm(EventType.POTENTIAL_MATCH_CREATED, t0 - 90, no, matchId="m-7071", acceptanceRequired=True, acceptanceTimeout=45)
    fm(EventType.ACCEPT_MATCH, t0 - 85, [tk("t-bot-0070", t0 - 170, ["bot-070"], "red", {"bot-070": False}), no[1]], matchId="m-7071")
    fm(EventType.ACCEPT_MATCH_COMPLETED, t0 - 85, no, matchId="m-7071", acceptance=AcceptanceOutcome.REJECTED)
    fm(EventType.CANCELLED, t0 - 85, [no[0]], reason="CANCELLED", message="A player rejected the match.")
    fm(EventType.SEARCHING, t0 - 85, [tk("t-bot-0071", t0 - 160, ["bot-071"])])
    late = [tk("t-bot-0080", t0 - 260, ["bot-080"], "red"), tk("t-bot-0081", t0 - 250, ["bot-081"], "blue")]
    fm(EventType.POTENTIAL_MATCH_CREATED, t0 - 240, late, matchId="m-8081", acceptanceRequired=True, acceptanceTimeout=45)
    fm(EventType.ACCEPT_MATCH_COMPLETED, t0 - 195, late, matchId="m-8081", acceptance=AcceptanceOutcome.TIMED_OUT)
    for spec in late:
        fm(EventType.TIMED_OUT, t0 - 195, [spec], reason="TIMEOUT", message="No answer in time.")

    # TeamBattles.
    vipers = match_doc("tbm_vipers_hp", creator=("t_vipers", "Crimson Vipers"), created=t0 - 900, scheduled=t0 + 1800)
    tb("match.created", t0 - 900, vipers)
    tb("match.published", t0 - 900, vipers)
    tb("emulator.acceptance.created", t0 - 300, vipers, acceptance={"id": "acc_0001", "teamId": "t_owls", "status": "PENDING"})
    tb("emulator.acceptance.created", t0 - 120, vipers, acceptance={"id": "acc_0002", "teamId": "t_foxes", "status": "PENDING"})
    owls = ("t_owls", "Night Owls")
    arranged = match_doc(
        "tbm_owls_vs_foxes", status="ACCEPTED", game="Skyline Strike", mode="control", creator=("t_foxes", "Glacier Foxes"),
        accepted=owls, created=t0 - 3000, scheduled=t0 + 600,
    )  # fmt: skip
    tb("match.accepted", t0 - 2400, arranged, acceptanceId="acc_0003", acceptance={"id": "acc_0003", "teamId": "t_owls", "status": "APPROVED"})
    tb("roster.updated", t0 - 2400, arranged, teamId="t_owls", players=[
        {"userId": "u_you", "username": "you"}, {"userId": "u_ada", "username": "ada"},
        {"userId": "u_bo", "username": "bo"}, {"userId": "u_cy", "username": "cy"},
    ])  # fmt: skip
    live = match_doc(
        "tbm_tigers_live", status="IN_PROGRESS", game="Irontide", mode="siege", creator=("t_tigers", "Paper Tigers"),
        accepted=("t_tide", "Riptide"), created=t0 - 7200, scheduled=t0 - 900,
    )  # fmt: skip
    tb("match.started", t0 - 900, live)
    gone = match_doc("tbm_foxes_ctrl", status="CANCELLED", creator=("t_foxes", "Glacier Foxes"), created=t0 - 1500, scheduled=t0 - 60)
    tb("match.cancelled", t0 - 60, gone, reason="Nobody accepted before the start.")
    return out


def poison_messages(t0: float) -> dict[str, str]:
    """Message bodies no moderator can read, by kind: each must be counted, listed and skipped."""
    searching = flexmatch_event("MatchmakingSearching", uid="poison-fields", time=t0, tickets=[])
    del searching["detail"]["type"]
    huge_time = flexmatch_event("MatchmakingSearching", uid="poison-time", time=t0, tickets=[])
    infinite = flexmatch_event(
        "PotentialMatchCreated",
        uid="poison-inf",
        time=t0,
        tickets=[("t-inf", t0, [("inf", "red", None)])],
        matchId="m-inf",
        acceptanceRequired=True,
    )
    wrong_tickets = flexmatch_event("MatchmakingSearching", uid="poison-tickets", time=t0, tickets=[])
    wrong_tickets["detail"]["tickets"] = "nope"
    nameless = flexmatch_event("MatchmakingSearching", uid="poison-ticket", time=t0, tickets=[("t-x", t0, [])])
    del nameless["detail"]["tickets"][0]["ticketId"]
    return {
        "nesting": "[" * 100_000 + "]" * 100_000,
        "not json": "this is no event",
        "not an object": "[1, 2, 3]",
        "encoding": '{"id": "\\udc80", "source": "aws.gamelift", "detail": "\\ud800"}',
        "size": '{"pad": "' + "x" * (300 << 10) + '"}',
        "missing field": json.dumps(searching),
        "huge integer": json.dumps(huge_time).replace(f'"{iso(t0)}"', "1" + "0" * 400),
        "infinite number": json.dumps(infinite).replace('"acceptanceRequired": true', '"acceptanceRequired": true, "acceptanceTimeout": 1e999'),
        "wrong field type": json.dumps({"id": "poison-detail", "source": "aws.gamelift", "detail": "MatchmakingSearching"}),
        "tickets not a list": json.dumps(wrong_tickets),
        "ticket without id": json.dumps(nameless),
        "sns with bad message": json.dumps({"Type": "Notification", "MessageId": "sns-poison", "Message": "{" * 5000}),
    }


@contextlib.asynccontextmanager
async def applying(source: Any, board: Any) -> AsyncIterator[None]:
    """Apply ``source``'s events to ``board`` in a task for the block's length, then stop it."""

    async def follow() -> None:
        async with contextlib.aclosing(source.batches()) as stream:
            async for batch in stream:
                board.apply_all(batch)

    task = asyncio.create_task(follow())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
