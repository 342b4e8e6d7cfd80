"""Who the API key's owner is, as far as the profile says: my teams, those I lead, my user id.

No TeamBattles route answers "who am I", so the profile names the user (a username or a user
id). Without it, nothing is known here, and offers are every open match (see
:func:`lobby.teambattles.matches.offer_kind`).
"""

from __future__ import annotations

import asyncio

from lobby.teambattles import wire as m
from lobby.teambattles.directory import Directory, bounded
from lobby.teambattles.matches import Mine, leads


class Identity:
    """My teams and my user id, through the cached directory."""

    def __init__(self, directory: Directory, user: str | None) -> None:
        self._directory = directory
        self._user = user
        self._me: str | None = None

    @property
    def user(self) -> str | None:
        """The key owner's username or user id, when the profile names it."""
        return self._user

    @user.setter
    def user(self, value: str | None) -> None:
        self._user = value
        self._me = None

    async def my_teams(self) -> list[m.UserTeamMembership] | None:
        """My active teams, or None when the profile does not say who I am."""
        if not self._user:
            return None
        return await self._directory.user_teams(self._user)

    async def led_teams(self) -> list[m.UserTeamMembership] | None:
        teams = await self.my_teams()
        if teams is None:
            return None
        return [t for t in teams if leads(t)]

    async def me(self) -> str | None:
        """My user id: the configured user, resolved through a roster of one of my teams."""
        if self._me is not None or not self._user:
            return self._me
        wanted = self._user.casefold()
        for team in await self.my_teams() or []:
            for member in await self._directory.members(team.id) or []:
                if member.user.id == self._user or (member.user.username or "").casefold() == wanted:
                    self._me = member.user.id
                    return self._me
        return None

    async def mine(self) -> Mine:
        """What I know about my teams (nothing when the profile does not say who I am)."""
        teams = await self.my_teams()
        if teams is None:
            return Mine()
        led = [t for t in teams if leads(t)]

        async def game_of(team_id: str) -> str | None:
            profile = await self._directory.team(team_id)
            return await self._directory.canonical_game(profile.game_id)

        if not led:
            return Mine(frozenset(t.id for t in teams), frozenset(), frozenset())
        # The catalog (every led team's game is looked up in it) is read alongside the teams.
        _, found = await asyncio.gather(self._directory.catalog(), bounded(game_of(team.id) for team in led))
        games = {game for game in found if game is not None}
        return Mine(frozenset(t.id for t in teams), frozenset(t.id for t in led), frozenset(games))
