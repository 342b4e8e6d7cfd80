"""Which TeamBattles matches are offers to me, and what changed about them.

Offers are the open matches a team of mine could accept (published, PENDING, not a challenge,
in a game one of the teams I lead plays) and the direct challenges to my teams. Their deadline
is the match's ``scheduledAt``: an open match is acceptable until it starts. What was offered
is remembered, so a match seen again says whether its offer changed, appeared or closed.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from lobby.core.offers import Change, Offer, OfferClosed, OfferKind, OfferUpdated
from lobby.teambattles import wire as m
from lobby.teambattles.client import TeamBattlesClient
from lobby.teambattles.directory import Directory, bounded
from lobby.teambattles.identity import Identity
from lobby.teambattles.matches import (
    Mine,
    closed_outcome,
    is_open,
    needs_game,
    needs_membership,
    offer_from_match,
    offer_kind,
)
from lobby.core.answers import MatchStatus

class Offers:
    """The offers of one API key, as last listed or changed."""

    def __init__(self, client: TeamBattlesClient, directory: Directory, identity: Identity) -> None:
        self._client = client
        self._directory = directory
        self._identity = identity
        #: The offers as last told, by match id.
        self.offered: dict[str, Offer] = {}

    async def kind_of(self, match: m.MatchDetail, mine: Mine) -> OfferKind | None:
        """What offer ``match`` is to me, or None; looks up only what the answer needs."""
        now = self._client.now()
        if not is_open(match, now):
            return None
        game_id = None
        if needs_game(match, mine):
            game_id = await self._directory.canonical_game(match.game.id)
        creator_is_mine = False
        if needs_membership(match, mine) and match.creator_team is not None:
            creator_is_mine = await self._directory.is_member(match.creator_team.id)
        return offer_kind(match, mine, now, game_id=game_id, creator_is_mine=creator_is_mine)

    async def open_matches(self) -> list[m.MatchDetail]:
        """Open matches in the games my led teams play (every open match if that is unknown)."""
        teams = await self._identity.led_teams()
        if teams is None:
            return await self._client.discover_all()
        seen: set[str] = set()
        out: list[m.MatchDetail] = []
        game_ids: list[str] = []
        for profile in await bounded(self._directory.team(team.id) for team in teams):
            if profile.game_id and profile.game_id not in game_ids:
                game_ids.append(profile.game_id)
        pages = await bounded(
            self._client.discover_all(m.MatchDiscoverBody(game_id=game_id)) for game_id in game_ids
        )
        for page in pages:
            for match in page:
                if match.id not in seen:
                    seen.add(match.id)
                    out.append(match)
        return out

    async def challenges(self) -> list[m.MatchDetail]:
        """PENDING matches that challenge one of my teams, from each team's own matches (the
        challenged team's members may read a pending challenge). Each is read as soon as its
        team's list names it; my teams are all this needs to know of me."""
        teams = await self._identity.my_teams()
        my_teams = frozenset(team.id for team in teams or ())
        filters = m.MatchesRequestBody(num_items=100, include_statuses=[MatchStatus.PENDING])
        asked: set[str] = set()

        async def challenges_to(team_id: str) -> list[m.MatchDetail]:
            wanted: list[str] = []
            async for item in self._client.team_matches(team_id, filters):
                if item.status != MatchStatus.PENDING or item.id in asked:
                    continue
                if item.creator_team is not None and item.creator_team.id in my_teams:
                    continue  # made by a team of mine: not an offer to me
                asked.add(item.id)
                wanted.append(item.id)
            return await bounded(self._client.get_match(match_id) for match_id in wanted)

        found = await bounded(challenges_to(team_id) for team_id in sorted(my_teams))
        return [match for matches in found for match in matches if match.challenged_team is not None]

    async def listed(self) -> tuple[list[m.MatchDetail], list[Offer]]:
        """Every match looked at, and the offers among them, soonest first (remembered). What I
        am (my teams, their games), the open matches and the challenges are read side by side:
        each waits only for the reads it needs (the directory asks for each thing once)."""
        mine, found, challenges = await asyncio.gather(
            self._identity.mine(), self.open_matches(), self.challenges()
        )
        matches = [*found, *challenges]
        offers: dict[str, Offer] = {}
        for match in matches:
            kind = await self.kind_of(match, mine)
            if kind is not None:
                offers[match.id] = offer_from_match(match, kind)
        far = datetime.max.replace(tzinfo=UTC)
        result = sorted(offers.values(), key=lambda o: (o.deadline or far, o.id))
        self.offered = {o.id: o for o in result}
        return matches, result

    async def change_for(
        self, match: m.MatchDetail, mine: Mine, event_id: str | None, event_type: str | None = None
    ) -> Change | None:
        """What ``match`` as just seen (in an event of ``event_type``, if one) changes about my
        offers, if anything."""
        kind = await self.kind_of(match, mine)
        if kind is not None:
            offer = offer_from_match(match, kind)
            if self.offered.get(match.id) == offer:
                return None
            self.offered[match.id] = offer
            return OfferUpdated(offer=offer, event_id=event_id)
        old = self.offered.pop(match.id, None)
        if old is None:
            return None
        return OfferClosed(
            kind=old.kind,
            id=match.id,
            status=match.status.value,
            outcome=closed_outcome(match, mine.teams or frozenset(), event_type),
            event_id=event_id,
        )

    async def closed(self, old: Offer, mine: Mine) -> OfferClosed:
        """An offer that is no longer listed: closed, how is not the caller's to read."""
        # Only a match's participants may read it, and a challenged team only while the
        # challenge is pending: an offer no longer listed is not mine to read. The event stream,
        # where there is one, says how it ended.
        outcome, status = "The match is no longer open.", "UNKNOWN"
        return OfferClosed(kind=old.kind, id=old.id, status=status, outcome=outcome)

    def answered(self, match_id: str) -> None:
        """A challenge was answered here: it is no longer an offer."""
        self.offered.pop(match_id, None)
