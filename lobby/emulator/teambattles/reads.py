"""The listing routes' reads: discover, a user's matches, ongoing matches, a user's teams."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from lobby.core.clock import Clock
from lobby.emulator.store import Store
from lobby.emulator.teambattles.errors import ApiError
from lobby.emulator.teambattles.lookups import Lookups
from lobby.emulator.teambattles.projections import Projections
from lobby.emulator.teambattles.wire import decode_cursor, encode_cursor, iso
from lobby.teambattles.rules import ErrorCode as E
from lobby.teambattles.rules import (
    MatchStatus,
)


@dataclass(slots=True)
class Reads:
    store: Store
    clock: Clock
    lookups: Lookups
    projections: Projections

    def discover(
        self,
        *,
        game_id: str | None,
        platform: str | None,
        region: str | None,
        match_type: str | None,
        after: float | None,
        before: float | None,
        league_id: str | None,
        limit: int,
        cursor: str | None,
    ) -> tuple[list[dict[str, Any]], str | None]:
        far = 1e18
        sql = (
            "SELECT *, COALESCE(scheduled_at, ?) AS sort_key FROM tb_matches"
            " WHERE publish_status = 'PUBLISHED' AND status = 'PENDING'"
            " AND challenged_team_id IS NULL AND accepted_team_id IS NULL"
            " AND (scheduled_at IS NULL OR scheduled_at > ?)"
        )
        params: list[Any] = [far, self.clock.timestamp()]
        if league_id is None:
            sql += " AND league_id IS NULL"
        else:
            sql += " AND league_id = ?"
            params.append(league_id)
        for column, value in (
            ("game_id", game_id),
            ("platform", platform),
            ("region", region),
            ("match_type", match_type),
        ):
            if value is not None:
                sql += f" AND {column} = ?"
                params.append(value)
        if after is not None:
            sql += " AND scheduled_at >= ?"
            params.append(after)
        if before is not None:
            sql += " AND scheduled_at <= ?"
            params.append(before)
        if cursor is not None:
            key, seq = decode_cursor(cursor, (float, int))
            sql += (
                " AND (COALESCE(scheduled_at, ?) > ?"
                " OR (COALESCE(scheduled_at, ?) = ? AND seq > ?))"
            )
            params += [far, key, far, key, seq]
        sql += " ORDER BY sort_key, seq LIMIT ?"
        params.append(limit + 1)
        rows = self.store.query(sql, params)
        page = rows[:limit]
        nxt = None
        if len(rows) > limit:
            nxt = encode_cursor([page[-1]["sort_key"], page[-1]["seq"]])
        return [self.projections.match_detail(r) for r in page], nxt

    def user_matches(
        self,
        user_id: str,
        *,
        num_items: int,
        cursor: str | None,
        include: Sequence[str],
        exclude: Sequence[str],
        game_id: str | None,
        scheduled_after: float | None,
        scheduled_before: float | None,
        created_after: float | None,
        created_before: float | None,
        opponent: str | None,
    ) -> tuple[list[dict[str, Any]], bool, str]:
        teams = self.lookups.team_ids_of(user_id)
        marks = ",".join("?" * len(teams)) or "NULL"
        sql = (
            "SELECT * FROM tb_matches WHERE (creator_user_id = ?"
            f" OR creator_team_id IN ({marks}) OR accepted_team_id IN ({marks})"
            f" OR challenged_team_id IN ({marks}))"
        )
        params: list[Any] = [user_id, *teams, *teams, *teams]
        known = {s.value for s in MatchStatus}
        inc = [s for s in include if s in known]
        exc = [s for s in exclude if s in known]
        if inc:
            sql += f" AND status IN ({','.join('?' * len(inc))})"
            params += inc
        if exc:
            sql += f" AND status NOT IN ({','.join('?' * len(exc))})"
            params += exc
        if game_id is not None:
            game = self.lookups.game(game_id)
            sql += " AND game_id = ?"
            params.append(game.convex_id if game else game_id)
        for clause, value in (
            ("scheduled_at >= ?", scheduled_after),
            ("scheduled_at <= ?", scheduled_before),
            ("created_at >= ?", created_after),
            ("created_at <= ?", created_before),
        ):
            if value is not None:
                sql += f" AND {clause}"
                params.append(value)
        if opponent is not None:
            team = self.lookups.team_row(opponent)
            opp = team["id"] if team else opponent
            sql += (
                " AND ? IN (creator_team_id, COALESCE(accepted_team_id, ''),"
                " COALESCE(challenged_team_id, ''))"
            )
            params.append(opp)
        if cursor is not None:
            created, seq = decode_cursor(cursor, (float, int))
            sql += " AND (created_at < ? OR (created_at = ? AND seq < ?))"
            params += [created, created, seq]
        sql += " ORDER BY created_at DESC, seq DESC LIMIT ?"
        params.append(num_items + 1)
        rows = self.store.query(sql, params)
        page = rows[:num_items]
        done = len(rows) <= num_items
        if page:
            cont = encode_cursor([page[-1]["created_at"], page[-1]["seq"]])
        else:
            cont = cursor if cursor is not None else encode_cursor([0.0, 0])
        return [self.projections.user_match(r) for r in page], done, cont

    def ongoing(self, user_id: str) -> list[dict[str, Any]]:
        teams = self.lookups.team_ids_of(user_id)
        if not teams:
            return []
        marks = ",".join("?" * len(teams))
        rows = self.store.query(
            "SELECT * FROM tb_matches WHERE publish_status = 'PUBLISHED'"
            " AND status IN ('ACCEPTED', 'READY', 'IN_PROGRESS')"
            f" AND (creator_team_id IN ({marks}) OR accepted_team_id IN ({marks}))"
            " ORDER BY COALESCE(scheduled_at, 1e18), seq",
            [*teams, *teams],
        )
        return [self.projections.match_detail(r) for r in rows]

    def user_teams(self, viewer_id: str, ref: str) -> list[dict[str, Any]]:
        user = self.lookups.user_row(ref)
        if user is None:
            raise ApiError(E.USER_NOT_FOUND, f"No user {ref!r}.")
        own = user["id"] == viewer_id
        if not own and user["visibility"] == "private":
            raise ApiError(E.PROFILE_PRIVATE, "This user's profile is private.")
        rows = self.store.query(
            "SELECT t.*, m.role, m.joined_at FROM tb_members m JOIN tb_teams t ON t.id = m.team_id"
            " WHERE m.user_id = ? AND m.active = 1 AND t.active = 1 ORDER BY m.rowid",
            (user["id"],),
        )
        out = []
        for t in rows:
            org = self.projections.org_summary(t["organization_id"])
            if not own and (org is None or org.get("visibility") != "public"):
                continue
            out.append(
                {
                    "id": t["id"],
                    "slug": t["slug"],
                    "name": t["name"],
                    "tag": t["tag"],
                    "avatarUrl": None,
                    "visibility": t["visibility"],
                    "role": t["role"],
                    "joinedAt": iso(t["joined_at"]),
                    "organization": org,
                }
            )
        return out
