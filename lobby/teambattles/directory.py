"""The service's directory, cached: the game catalog, teams, their members and a user's teams.

These change rarely, and the form and a send need the same ones one after the other, so each
answer is trusted for :data:`CACHE_SECONDS` (by the monotonic clock) before it is asked again.
The service remains the judge of every request: a stale team is at worst explained wrongly here,
never applied wrongly there.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterable
from typing import Generic, TypeVar

from lobby.core.errors import NotFound, PermissionDenied
from lobby.teambattles import wire as m
from lobby.teambattles.client import TeamBattlesClient

#: How long the teams and the game catalog are trusted before being fetched again.
CACHE_SECONDS = 300.0

T = TypeVar("T")

#: How many reads a listing has in flight at once (teams, their matches, the matches themselves).
CONCURRENT_READS = 8


async def bounded(calls: Iterable[Awaitable[T]], limit: int = CONCURRENT_READS) -> list[T]:
    """The results of ``calls``, in order, at most ``limit`` of them awaited at once."""
    gate = asyncio.Semaphore(limit)

    async def one(call: Awaitable[T]) -> T:
        async with gate:
            return await call

    return list(await asyncio.gather(*(one(call) for call in calls)))


class Cache(Generic[T]):
    """Values by key, each trusted for ``seconds`` after it was loaded."""

    def __init__(self, seconds: float, monotonic: Callable[[], float]) -> None:
        self._seconds = seconds
        self._monotonic = monotonic
        self._items: dict[str, tuple[float, T]] = {}
        #: Loads under way, by key: a key asked for again meanwhile waits for the same answer.
        self._loading: dict[str, asyncio.Future[T]] = {}

    async def get(self, key: str, load: Callable[[], Awaitable[T]]) -> T:
        hit = self._items.get(key)
        now = self._monotonic()
        if hit is not None and now - hit[0] < self._seconds:
            return hit[1]
        pending = self._loading.get(key)
        if pending is not None:
            return await asyncio.shield(pending)
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._loading[key] = future
        try:
            value = await load()
        except Exception as exc:
            future.set_exception(exc)
            future.exception()  # retrieved: no "never retrieved" warning when nobody else waited
            raise
        except BaseException:
            future.cancel()
            raise
        finally:
            if self._loading.get(key) is future:
                del self._loading[key]
        self._items[key] = (now, value)
        future.set_result(value)
        return value

    def put(self, key: str, value: T) -> None:
        self._items[key] = (self._monotonic(), value)

    def drop(self, key: str) -> None:
        self._items.pop(key, None)

    def clear(self) -> None:
        self._items.clear()


class Directory:
    """Cached reads of games, teams, members and a user's teams for one API key."""

    def __init__(
        self, client: TeamBattlesClient, *, monotonic: Callable[[], float] | None = None
    ) -> None:
        self._client = client
        clock = monotonic or time.monotonic
        self._catalog: Cache[m.GameCatalog] = Cache(CACHE_SECONDS, clock)
        self._teams: Cache[m.TeamProfile] = Cache(CACHE_SECONDS, clock)
        self._members: Cache[list[m.TeamMember] | None] = Cache(CACHE_SECONDS, clock)
        self._user_teams: Cache[list[m.UserTeamMembership]] = Cache(CACHE_SECONDS, clock)

    def forget(self) -> None:
        """Drop every cached answer (after a membership or catalog change)."""
        for cache in (self._catalog, self._teams, self._members, self._user_teams):
            cache.clear()

    async def catalog(self) -> m.GameCatalog:
        return await self._catalog.get("games", self._client.games)

    async def game(self, game_ref: str) -> m.GameCatalogEntry | None:
        """The catalog entry of ``game_ref`` (either of a game's ids), if the catalog has it."""
        for entry in (await self.catalog()).games:
            if game_ref in entry.refs():
                return entry
        return None

    async def canonical_game(self, game_ref: str | None) -> str | None:
        """One id per game, whichever of its ids (public or internal) a route used."""
        if game_ref is None:
            return None
        entry = await self.game(game_ref)
        if entry is None:
            return game_ref
        return entry.convex_id or entry.id

    async def team(self, identifier: str) -> m.TeamProfile:
        """A team by id or slug (kept under both)."""
        team = await self._teams.get(identifier, lambda: self._client.team(identifier))
        if team.id != identifier:
            self._teams.put(team.id, team)
        return team

    async def members(self, team_id: str) -> list[m.TeamMember] | None:
        """The team's active members, or None when they are hidden from the key (an
        organization owner outside a non-public team, say)."""

        async def load() -> list[m.TeamMember] | None:
            try:
                return await self._client.team_members(team_id)
            except PermissionDenied:
                return None

        return await self._members.get(team_id, load)

    async def is_member(self, team_id: str) -> bool:
        """Whether the key's owner is on ``team_id`` (a team hidden from me is not mine)."""
        try:
            return (await self.team(team_id)).is_member
        except (PermissionDenied, NotFound):
            return False

    async def user_teams(self, user: str) -> list[m.UserTeamMembership]:
        return await self._user_teams.get(user, lambda: self._client.user_teams(user))
