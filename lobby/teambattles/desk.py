"""The acceptance desk: the facts a draft for a match is judged against, gathered once.

:class:`Desk` is the backend's :class:`lobby.core.backend.AcceptanceDesk`. The form asks it
for the facts of a match (one per team of mine that could answer it), which teams to offer and
what is wrong with a draft; a send asks it for the facts of the draft's team. Both are built
from the same cached answers and only from what the caller may read: the match as the stream,
a listing or the discover route last showed it, the players of a challenge to my team, and the
directory's teams and games. The facts a team was judged against are
kept (for :data:`~lobby.teambattles.directory.CACHE_SECONDS`), so a send right after the form
judges the draft against the very facts the form showed, and reads nothing. Changes to a match
that come in replace it here; a change to its rosters drops it, so its players are read again.

No route says that a team is banned from competitive play: the service's refusal is the first
the client hears of it. A team so refused is remembered (for :data:`BAN_SECONDS`), so its facts
say it is banned: the form marks it, and a draft of it is refused here with the service's reason.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from lobby.core.answers import AcceptanceDraft, AcceptanceFacts, Violation
from lobby.core.errors import BackendError
from lobby.teambattles import wire as m
from lobby.teambattles.client import TeamBattlesClient
from lobby.teambattles.directory import CACHE_SECONDS, Cache, Directory
from lobby.teambattles.identity import Identity
from lobby.teambattles.matches import (
    eligible_teams,
    game_facts,
    judge,
    match_facts,
    resolved,
    team_facts,
    user_ids,
)
from lobby.teambattles.request_book import MyRequests
from lobby.teambattles.vocab import ErrorCode

#: How long a team the service refused as banned from competitive play is taken to be banned.
BAN_SECONDS = CACHE_SECONDS


@dataclass(frozen=True, slots=True)
class Prepared:
    """A draft made ready to send: its players as user ids, the facts it is judged against (at
    the service's now), and the match as last seen."""

    draft: AcceptanceDraft
    facts: AcceptanceFacts
    match: m.MatchDetail

    def violations(self) -> list[Violation]:
        return judge(self.draft, self.facts)


@dataclass(frozen=True, slots=True)
class _Judged:
    """The facts a team was last judged against on a match, how a draft may name its members,
    the match as then seen, and when (monotonic seconds)."""

    facts: AcceptanceFacts
    ids: Mapping[str, str]
    match: m.MatchDetail
    at: float


class Desk:
    """The facts of matches and teams for answers, and what the client judges of a draft."""

    def __init__(
        self,
        client: TeamBattlesClient,
        directory: Directory,
        identity: Identity,
        requests: MyRequests,
        *,
        monotonic: Callable[[], float] | None = None,
    ) -> None:
        self._client = client
        self._directory = directory
        self._identity = identity
        self._requests = requests
        self._monotonic = monotonic or time.monotonic
        self._matches: Cache[m.MatchDetail] = Cache(CACHE_SECONDS, self._monotonic)
        self._players: Cache[frozenset[str]] = Cache(CACHE_SECONDS, self._monotonic)
        #: By match id, then by the team's id (or the slug a draft named it by).
        self._judged: dict[str, dict[str, _Judged]] = {}
        #: Teams the service refused as banned from competitive play, and when (monotonic).
        self._banned: dict[str, float] = {}

    # --- what comes in ---------------------------------------------------------------------------

    def observe(self, match: m.MatchDetail) -> None:
        """The match as the service just showed it (in a listing, a read or an event)."""
        self._matches.put(match.id, match)
        judged = self._judged.get(match.id, {})
        for ref, was in judged.items():
            now_seen = match_facts(match, was.facts.match.game_id, was.facts.match.player_ids)
            judged[ref] = replace(was, facts=replace(was.facts, match=now_seen), match=match)

    def refused(self, team_id: str, error: BackendError) -> None:
        """The service refused an answer of team ``team_id`` with ``error``: a ban from
        competitive play, which no route shows, is remembered, and every kept fact of the team
        says so from now on."""
        if error.code != ErrorCode.COMPETITIVE_BANNED:
            return
        self._banned[team_id] = self._monotonic()
        for judged in self._judged.values():
            for ref, was in judged.items():
                if was.facts.team.id == team_id:
                    team = replace(was.facts.team, competitive_banned=True)
                    judged[ref] = replace(was, facts=replace(was.facts, team=team))

    def _is_banned(self, team_id: str) -> bool:
        since = self._banned.get(team_id)
        return since is not None and self._monotonic() - since < BAN_SECONDS

    def forget(self, match_id: str) -> None:
        """Read the match and its players again next time (its rosters changed)."""
        self._matches.drop(match_id)
        self._players.drop(match_id)
        self._judged.pop(match_id, None)

    async def match(self, match_id: str) -> m.MatchDetail:
        """The match as last seen, or found now in what the caller may read."""
        return await self._matches.get(match_id, lambda: self._find(match_id))

    async def _find(self, match_id: str) -> m.MatchDetail:
        """``match_id`` from the discover listing (anyone may read it); failing that, read
        directly, which the service allows only a participant (a challenged team included)."""
        found = None
        for match in await self._client.discover_all():
            self._matches.put(match.id, match)
            if match.id == match_id:
                found = match
        if found is not None:
            return found
        return await self._client.get_match(match_id)

    async def _players_of(self, match: m.MatchDetail) -> frozenset[str]:
        """The players of ``match`` as far as the caller may read them: a challenged team reads
        the challenge's players; an open match's are not a non-participant's to read, so the
        service alone judges a player on both sides."""
        if match.challenged_team is None:
            return frozenset()

        async def load() -> frozenset[str]:
            return frozenset(p.user_id for p in await self._client.match_players(match.id))

        return await self._players.get(match.id, load)

    # --- facts -----------------------------------------------------------------------------------

    async def _judge_for(self, match: m.MatchDetail, team_ref: str) -> _Judged:
        """Gather the facts of ``match`` and the team ``team_ref`` names, and keep them."""
        team = await self._directory.team(team_ref)
        members = await self._directory.members(team.id)
        game_id = await self._directory.canonical_game(match.game.id) or match.game.id
        facts = AcceptanceFacts(
            owner_id=await self._identity.me() or "",
            match=match_facts(match, game_id, await self._players_of(match)),
            team=replace(
                team_facts(team, members, await self._directory.canonical_game(team.game_id)),
                competitive_banned=self._is_banned(team.id),
            ),
            game=game_facts(await self._directory.game(match.game.id), game_id),
        )
        judged = _Judged(facts, user_ids(members or ()), match, self._monotonic())
        kept = self._judged.setdefault(match.id, {})
        kept[team.id] = kept[team_ref] = judged
        return judged

    def _now(self, facts: AcceptanceFacts) -> AcceptanceFacts:
        """``facts`` as they stand now: the service's time, and my requests pending now."""
        pending = self._requests.pending_team_ids(facts.match.id)
        return replace(facts, pending_team_ids=pending, now=self._client.now())

    async def acceptance_facts(self, match_id: str) -> list[AcceptanceFacts]:
        """One AcceptanceFacts per team that could answer ``match_id``: the challenged team of
        a challenge, else every team I lead."""
        match = await self.match(match_id)
        if match.challenged_team is not None:
            team_ids = [match.challenged_team.id]
        else:
            team_ids = [t.id for t in await self._identity.led_teams() or []]
        await self._requests.load()
        return [self._now((await self._judge_for(match, t)).facts) for t in team_ids]

    async def prepare(self, match_id: str, draft: AcceptanceDraft) -> Prepared:
        """``draft`` with its team and players resolved to ids, and the facts it is judged
        against: those the form was shown for its team when they are recent, else gathered now
        (the team named by id or slug)."""
        judged = self._judged.get(match_id, {}).get(draft.team_id)
        if judged is None or self._monotonic() - judged.at >= CACHE_SECONDS:
            judged = await self._judge_for(await self.match(match_id), draft.team_id)
        await self._requests.load()
        facts = self._now(judged.facts)
        return Prepared(resolved(draft, facts.team.id, judged.ids), facts, judged.match)

    # --- AcceptanceDesk --------------------------------------------------------------------------

    def offered(self, facts: Sequence[AcceptanceFacts]) -> list[AcceptanceFacts]:
        """The teams the form offers, of those ``facts`` describe."""
        return eligible_teams(facts)

    def violations(
        self, draft: AcceptanceDraft, facts: AcceptanceFacts, now: datetime
    ) -> list[Violation]:
        """Every rule ``draft`` breaks at ``now`` that the client can judge."""
        return judge(draft, replace(facts, now=now))
