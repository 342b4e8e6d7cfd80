"""The listing routes' reads: discover, a user's matches, ongoing matches, a user's teams."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from lobby.core.clock import Clock
from lobby.emulator.store import Store
from lobby.emulator.teambattles.errors import ApiError
from lobby.emulator.teambattles.lookups import Lookups
from lobby.emulator.teambattles.projections import Projections, summary
from lobby.emulator.teambattles.queries import (
    DiscoverFilter,
    UserMatchesFilter,
    discover_query,
    ongoing_query,
    team_matches_query,
    user_matches_query,
    user_teams_query,
)
from lobby.emulator.teambattles.wire import encode_cursor, iso
from lobby.teambattles.rules import leads_team
from lobby.teambattles.vocab import ErrorCode as E
from lobby.teambattles.vocab import Visibility


@dataclass(slots=True)
class Reads:
    store: Store
    clock: Clock
    lookups: Lookups
    projections: Projections

    def discover(self, f: DiscoverFilter) -> tuple[list[dict[str, Any]], str | None]:
        rows = self.store.query(*discover_query(f, self.clock.timestamp()))
        page = rows[: f.limit]
        nxt = None
        if len(rows) > f.limit:
            nxt = encode_cursor([page[-1]["sort_key"], page[-1]["seq"]])
        return [self.projections.match_detail(r) for r in page], nxt

    def _resolved(self, f: UserMatchesFilter) -> UserMatchesFilter:
        """``f`` with its game as a convex id and its opponent as a team id (404 if unknown)."""
        if f.game_id is not None:
            game = self.lookups.game(f.game_id)
            f = replace(f, game_id=game.convex_id if game else f.game_id)
        if f.opponent is not None:
            f = replace(f, opponent=self.lookups.team_or_404(f.opponent)["id"])
        return f

    def user_matches(
        self, user_id: str, f: UserMatchesFilter
    ) -> tuple[list[dict[str, Any]], bool, str]:
        f = self._resolved(f)
        return self._page(user_matches_query(user_id, f), f)

    def team_matches(
        self, user_id: str, ref: str, f: UserMatchesFilter
    ) -> tuple[list[dict[str, Any]], bool, str]:
        """The team's matches (its active members only: the access table's TEAM_MEMBER gate)."""
        team = self.lookups.team_or_404(ref)
        f = self._resolved(f)
        drafts = leads_team(user_id, self.lookups.team_facts(team["id"]))
        return self._page(team_matches_query(team["id"], f, drafts=drafts), f)

    def _page(
        self, query: tuple[str, list[Any]], f: UserMatchesFilter
    ) -> tuple[list[dict[str, Any]], bool, str]:
        rows = self.store.query(*query)
        page = rows[: f.num_items]
        done = len(rows) <= f.num_items
        if page:
            cont = encode_cursor([page[-1]["created_at"], page[-1]["seq"]])
        else:
            cont = f.cursor if f.cursor is not None else encode_cursor([0.0, 0])
        return [self.projections.user_match(r) for r in page], done, cont

    def ongoing(self, user_id: str) -> list[dict[str, Any]]:
        teams = self.lookups.team_ids_of(user_id)
        if not teams:
            return []
        return [self.projections.match_detail(r) for r in self.store.query(*ongoing_query(teams))]

    def user_teams(self, viewer_id: str, ref: str) -> list[dict[str, Any]]:
        user = self.lookups.user_row(ref)
        if user is None:
            raise ApiError(E.USER_NOT_FOUND, f"No user {ref!r}.")
        own = user["id"] == viewer_id
        if not own and user["visibility"] == Visibility.PRIVATE:
            raise ApiError(E.FORBIDDEN, "This user's profile is private.")
        rows = self.store.query(*user_teams_query(user["id"]))
        out = []
        for t in rows:
            org = self.projections.org_summary(t["organization_id"])
            if not own and (org is None or org.get("visibility") != Visibility.PUBLIC):
                continue
            out.append(
                {
                    **summary(t),
                    "role": t["role"],
                    "joinedAt": iso(t["joined_at"]),
                    "organization": org,
                }
            )
        return out
