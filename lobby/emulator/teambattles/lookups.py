"""Finding things in the TeamBattles tables: games, teams, users and matches by id (or slug, or
name), who may see what, and the facts :mod:`lobby.teambattles.rules` decides on."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime

from lobby.emulator.store import Store
from lobby.emulator.teambattles.errors import ApiError
from lobby.emulator.teambattles.scenario import GameSpec
from lobby.teambattles.vocab import ErrorCode as E
from lobby.core.answers import (
    GameFacts,
    MatchFacts,
    MatchStatus,
    PublishStatus,
    TeamFacts,
    TeamRole,
)
from lobby.teambattles.rules import leads_team

ROLE_ORDER = {TeamRole.CAPTAIN.value: 0, TeamRole.CO_CAPTAIN.value: 1, TeamRole.MEMBER.value: 2}


def as_datetime(ts: float | None) -> datetime | None:
    return None if ts is None else datetime.fromtimestamp(ts, UTC)


class Lookups:
    def __init__(self, store: Store) -> None:
        self.store = store
        self._games: dict[str, GameSpec] = {}

    def game(self, ref: str) -> GameSpec | None:
        """A game by slug or convex id."""
        cached = self._games.get(ref)
        if cached is not None:
            return cached
        row = self.store.query_one(
            "SELECT doc FROM tb_games WHERE id = ? OR convex_id = ?", (ref, ref)
        )
        if row is None:
            return None
        game = GameSpec.model_validate_json(row["doc"])
        self._games[game.id] = self._games[game.convex_id] = game
        return game

    def games(self) -> list[GameSpec]:
        rows = self.store.query("SELECT convex_id FROM tb_games ORDER BY position")
        return [g for g in (self.game(r["convex_id"]) for r in rows) if g is not None]

    def team_row(self, ref: str) -> sqlite3.Row | None:
        return self.store.query_one(
            "SELECT * FROM tb_teams WHERE (id = ? OR slug = ?) AND active = 1", (ref, ref)
        )

    def user_row(self, ref: str) -> sqlite3.Row | None:
        return self.store.query_one(
            "SELECT * FROM tb_users WHERE id = ? OR username = ? COLLATE NOCASE", (ref, ref)
        )

    def match_row(self, match_id: str) -> sqlite3.Row | None:
        return self.store.query_one("SELECT * FROM tb_matches WHERE id = ?", (match_id,))

    def team_or_404(self, ref: str) -> sqlite3.Row:
        row = self.team_row(ref)
        if row is None:
            raise ApiError(E.TEAM_NOT_FOUND, f"No active team {ref!r}.")
        return row

    def match_or_404(self, match_id: str) -> sqlite3.Row:
        row = self.match_row(match_id)
        if row is None:
            raise ApiError(E.MATCH_NOT_FOUND, f"No match {match_id!r}.")
        return row

    def members(self, team_id: str) -> list[sqlite3.Row]:
        rows = self.store.query(
            "SELECT m.id AS membership_id, m.role, m.joined_at, u.*"
            " FROM tb_members m JOIN tb_users u ON u.id = m.user_id"
            " WHERE m.team_id = ? AND m.active = 1",
            (team_id,),
        )
        return sorted(rows, key=lambda r: (ROLE_ORDER.get(r["role"], 9), r["joined_at"]))

    def team_ids_of(self, user_id: str) -> list[str]:
        rows = self.store.query(
            "SELECT m.team_id FROM tb_members m JOIN tb_teams t ON t.id = m.team_id"
            " WHERE m.user_id = ? AND m.active = 1 AND t.active = 1 ORDER BY m.joined_at",
            (user_id,),
        )
        return [r[0] for r in rows]

    def teams_led_by(self, user_id: str) -> list[str]:
        rows = self.store.query("SELECT id FROM tb_teams WHERE active = 1 ORDER BY created_at")
        return [r["id"] for r in rows if leads_team(user_id, self.team_facts(r["id"]))]

    def _participants(self, match: sqlite3.Row) -> list[str]:
        return [
            t
            for t in (
                match["creator_team_id"],
                match["accepted_team_id"],
                match["challenged_team_id"],
            )
            if t is not None
        ]

    def can_see(self, match: sqlite3.Row, user_id: str) -> bool:
        """Published matches are public; a draft only to the people of its teams and to those
        who lead one of them (an organization's owner leads its teams without being a member)."""
        if match["publish_status"] == PublishStatus.PUBLISHED:
            return True
        if match["creator_user_id"] == user_id:
            return True
        mine = set(self.team_ids_of(user_id))
        teams = self._participants(match)
        if any(t in mine for t in teams):
            return True
        return any(leads_team(user_id, self.team_facts(t)) for t in teams)

    def team_facts(self, team_id: str) -> TeamFacts:
        team = self.store.query_one("SELECT * FROM tb_teams WHERE id = ?", (team_id,))
        if team is None:
            raise ApiError(E.TEAM_NOT_FOUND, f"No active team {team_id!r}.")
        owner = None
        if team["organization_id"] is not None:
            org = self.store.query_one(
                "SELECT owner_id FROM tb_organizations WHERE id = ?", (team["organization_id"],)
            )
            owner = org["owner_id"] if org else None
        members = {
            r["user_id"]: TeamRole(r["role"])
            for r in self.store.query(
                "SELECT user_id, role FROM tb_members WHERE team_id = ? AND active = 1",
                (team_id,),
            )
        }
        return TeamFacts(
            id=team["id"],
            game_id=team["game_id"],
            members=members,
            organization_owner_id=owner,
            competitive_banned=bool(team["competitive_banned"]),
            name=team["name"],
        )

    def game_facts(self, game_ref: str) -> GameFacts:
        game = self.game(game_ref)
        if game is None:
            return GameFacts(id=game_ref, maps={}, mode_pools={})
        return GameFacts(
            id=game.convex_id,
            maps={m.id: m.released for m in game.maps},
            mode_pools={mode.id: tuple(mode.maps) for mode in game.modes if mode.maps},
            mode_ids=frozenset(mode.id for mode in game.modes),
        )

    def match_facts(self, match: sqlite3.Row) -> MatchFacts:
        players = self.store.query(
            "SELECT user_id FROM tb_match_players WHERE match_id = ?", (match["id"],)
        )
        return MatchFacts(
            id=match["id"],
            status=MatchStatus(match["status"]),
            publish_status=PublishStatus(match["publish_status"]),
            game_id=match["game_id"],
            game_mode=match["game_mode"],
            team_size=match["team_size"],
            creator_team_id=match["creator_team_id"],
            accepted_team_id=match["accepted_team_id"],
            challenged_team_id=match["challenged_team_id"],
            scheduled_at=as_datetime(match["scheduled_at"]),
            player_ids=frozenset(r[0] for r in players),
        )

    def pending_team_ids(self, match_id: str) -> frozenset[str]:
        rows = self.store.query(
            "SELECT team_id FROM tb_acceptances WHERE match_id = ? AND status = 'PENDING'",
            (match_id,),
        )
        return frozenset(r[0] for r in rows)
