"""The emulated TeamBattles service: reads, the match and acceptance life cycle, and its events.

Routes (and the demo bots) call these methods with the acting user, who is always the owner of
the API key. Each change happens in one store transaction together with the event that announces
it on the emulator's stream. Rules come from :mod:`lobby.teambattles.rules`.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from lobby.emulator.events import TEAMBATTLES
from lobby.emulator.runtime import Runtime
from lobby.emulator.teambattles.db import add_player, next_id
from lobby.emulator.teambattles.errors import ApiError, invalid, raise_first
from lobby.emulator.teambattles.scenario import GameSpec, TeamBattlesScenario
from lobby.emulator.teambattles.wire import decode_cursor, encode_cursor, iso
from lobby.teambattles.rules import (
    REASON_MAX_LENGTH,
    AcceptanceDraft,
    AcceptanceFacts,
    AcceptanceStatus,
    BenchEntry,
    GameFacts,
    MapPreferenceMode,
    MatchFacts,
    MatchStatus,
    PublishStatus,
    RosterDraft,
    TeamFacts,
    TeamRole,
    Violation,
    check_acceptance,
    check_challenge_refusal,
    check_challenge_response,
    check_decision,
    check_draft_shape,
    leads_team,
    rule_maps_in_pool,
    rule_message,
    rule_owner_leads_team,
    rule_roster,
    rule_team_not_banned,
    rule_team_plays_game,
)
from lobby.teambattles.rules import ErrorCode as E

log = logging.getLogger("lobby.emulator.teambattles")

ROLE_ORDER = {TeamRole.CAPTAIN.value: 0, TeamRole.CO_CAPTAIN.value: 1, TeamRole.MEMBER.value: 2}
ONGOING = ("ACCEPTED", "READY", "IN_PROGRESS")
#: How a match that never got an opponent is cancelled when its start passes.
EXPIRED_REASON = "No team was accepted before the scheduled start."

OBJECTIVES = [
    {
        "id": "obj_first_win",
        "titleKey": "First win of the day",
        "descriptionKey": "Win one match today.",
        "exp": 100,
        "scope": "USER",
        "completionRule": "WIN_MATCHES:1",
    },
    {
        "id": "obj_team_series",
        "titleKey": "Series regulars",
        "descriptionKey": "Play three matches with the same team.",
        "exp": 250,
        "scope": "TEAM",
        "completionRule": "PLAY_MATCHES:3",
    },
]


@dataclass(frozen=True, slots=True)
class NewMatch:
    """A match to create, already checked for types by the route."""

    team_id: str
    game_id: str
    game_mode: str
    match_type: str
    map_selection_type: str
    map_preference_mode: str
    team_size: int
    best_of: int
    roster: RosterDraft
    platform: str = "CROSSPLAY"
    input_device: str = "ALL"
    region: str = "NONE"
    scheduled_at: float | None = None
    wager_amount: float | None = None
    selected_maps: tuple[str, ...] = ()
    selected_objectives: tuple[str, ...] = ()
    notes: str | None = None
    publish_status: str = "DRAFT"
    challenged_team_id: str | None = None
    league_id: str | None = None


class TeamBattles:
    def __init__(self, runtime: Runtime, scenario: TeamBattlesScenario) -> None:
        self.runtime = runtime
        self.store = runtime.store
        self.scenario = scenario
        self._games: dict[str, GameSpec] = {}

    # --- time ----------------------------------------------------------------------------------

    def now(self) -> float:
        return self.runtime.clock.timestamp()

    @staticmethod
    def _dt(ts: float | None) -> datetime | None:
        return None if ts is None else datetime.fromtimestamp(ts, UTC)

    # --- lookups -------------------------------------------------------------------------------

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

    def _team_or_404(self, ref: str) -> sqlite3.Row:
        row = self.team_row(ref)
        if row is None:
            raise ApiError(E.TEAM_NOT_FOUND, f"No active team {ref!r}.")
        return row

    def _match_or_404(self, match_id: str) -> sqlite3.Row:
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

    # --- facts for the domain rules -------------------------------------------------------------

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
            scheduled_at=self._dt(match["scheduled_at"]),
            player_ids=frozenset(r[0] for r in players),
        )

    def _pending_team_ids(self, match_id: str) -> frozenset[str]:
        rows = self.store.query(
            "SELECT team_id FROM tb_acceptances WHERE match_id = ? AND status = 'PENDING'",
            (match_id,),
        )
        return frozenset(r[0] for r in rows)

    # --- projections (contract shapes) ----------------------------------------------------------

    def match_team(self, team_id: str | None, *, with_score: bool = True) -> dict[str, Any] | None:
        if team_id is None:
            return None
        row = self.store.query_one("SELECT id, name, tag FROM tb_teams WHERE id = ?", (team_id,))
        if row is None:
            return None
        out: dict[str, Any] = {
            "id": row["id"],
            "name": row["name"],
            "tag": row["tag"],
            "avatarUrl": None,
        }
        if with_score:
            out["score"] = None
        return out

    def _game_ref(self, game_id: str) -> dict[str, str]:
        game = self.game(game_id)
        return {"id": game_id, "nameKey": game.name if game else game_id}

    def match_detail(self, m: sqlite3.Row) -> dict[str, Any]:
        return {
            "id": m["id"],
            "status": m["status"],
            "publishStatus": m["publish_status"],
            "game": self._game_ref(m["game_id"]),
            "gameMode": m["game_mode"],
            "matchType": m["match_type"],
            "platform": m["platform"],
            "region": m["region"],
            "creatorTeam": self.match_team(m["creator_team_id"]),
            "acceptedTeam": self.match_team(m["accepted_team_id"]),
            "challengedTeam": self.match_team(m["challenged_team_id"]),
            "bestOf": m["best_of"],
            "teamSize": m["team_size"],
            "selectedMaps": json.loads(m["selected_maps"]),
            "selectedObjectives": json.loads(m["selected_objectives"]),
            "winnerTeamId": m["winner_team_id"],
            "scheduledAt": iso(m["scheduled_at"]),
            "startedAt": iso(m["started_at"]),
            "completedAt": iso(m["completed_at"]),
            "createdAt": iso(m["created_at"]),
            "leagueId": m["league_id"],
            "leagueSeasonId": m["league_season_id"],
        }

    def user_match(self, m: sqlite3.Row) -> dict[str, Any]:
        return {
            "id": m["id"],
            "status": m["status"],
            "game": self._game_ref(m["game_id"]),
            "gameMode": m["game_mode"],
            "creatorTeam": self.match_team(m["creator_team_id"], with_score=False),
            "acceptedTeam": self.match_team(m["accepted_team_id"], with_score=False),
            "scheduledAt": iso(m["scheduled_at"]),
            "startedAt": iso(m["started_at"]),
            "completedAt": iso(m["completed_at"]),
            "bestOf": m["best_of"],
        }

    def players(self, match_id: str) -> list[dict[str, Any]]:
        rows = self.store.query(
            "SELECT p.*, u.username, u.name FROM tb_match_players p"
            " JOIN tb_users u ON u.id = p.user_id WHERE p.match_id = ? ORDER BY p.position",
            (match_id,),
        )
        return [
            {
                "id": r["id"],
                "userId": r["user_id"],
                "teamId": r["team_id"],
                "username": r["username"],
                "name": r["name"],
                "avatarUrl": None,
                "rosterType": r["roster_type"],
                "attendanceStatus": "ATTENDING" if r["roster_type"] == "ACTIVE" else "TENTATIVE",
                "isCheckedIn": False,
                "checkedInAt": None,
            }
            for r in rows
        ]

    @staticmethod
    def user_profile(u: sqlite3.Row) -> dict[str, Any]:
        return {
            "id": u["id"],
            "username": u["username"],
            "name": u["name"],
            "avatarUrl": None,
            "bannerUrl": None,
            "isVerified": bool(u["verified"]),
            "bio": None,
            "visibility": u["visibility"],
            "createdAt": iso(u["created_at"]),
        }

    def member_rows(self, team_id: str) -> list[dict[str, Any]]:
        return [
            {
                "id": r["membership_id"],
                "user": self.user_profile(r),
                "role": r["role"],
                "joinedAt": iso(r["joined_at"]),
            }
            for r in self.members(team_id)
        ]

    def team_profile(self, t: sqlite3.Row, viewer_id: str) -> dict[str, Any]:
        members = self.members(t["id"])
        played = self.store.query(
            "SELECT winner_team_id FROM tb_matches WHERE status = 'COMPLETED'"
            " AND (creator_team_id = ? OR accepted_team_id = ?)",
            (t["id"], t["id"]),
        )
        wins = sum(1 for r in played if r[0] == t["id"])
        draws = sum(1 for r in played if r[0] is None)
        return {
            "id": t["id"],
            "slug": t["slug"],
            "name": t["name"],
            "tag": t["tag"],
            "avatarUrl": None,
            "visibility": t["visibility"],
            "description": t["description"],
            "bannerUrl": None,
            "gameId": t["game_id"],
            "organizationId": t["organization_id"],
            "isMember": any(r["id"] == viewer_id for r in members),
            "memberCount": len(members),
            "wins": wins,
            "losses": len(played) - wins - draws,
            "draws": draws,
            "matchesPlayed": len(played),
            "experience": 100.0 * len(played),
            "createdAt": iso(t["created_at"]),
        }

    def _org_summary(self, org_id: str | None) -> dict[str, Any] | None:
        if org_id is None:
            return None
        o = self.store.query_one("SELECT * FROM tb_organizations WHERE id = ?", (org_id,))
        if o is None:
            return None
        return {
            "id": o["id"],
            "slug": o["slug"],
            "name": o["name"],
            "tag": o["tag"],
            "avatarUrl": None,
            "visibility": o["visibility"],
        }

    def catalog_entry(self, g: GameSpec) -> dict[str, Any]:
        return {
            "id": g.id,
            "convexId": g.convex_id,
            "nameKey": g.name,
            "shortNameKey": g.short_name,
            "descriptionKey": None,
            "category": g.category,
            "rulesLink": None,
            "coverImage": None,
            "bannerImage": None,
            "defaultTeamSize": g.default_team_size,
            "hasCompetitiveMode": any(mode.maps for mode in g.modes),
            "isComingSoon": g.coming_soon,
            "isAvailableForMatchApi": not g.coming_soon,
            "modes": [
                {
                    "id": mode.id,
                    "nameKey": mode.name,
                    "descriptionKey": None,
                    "image": None,
                    "shortName": mode.short_name,
                    "rewardBonus": None,
                    "supportsDraftToggle": False,
                    "mapIds": list(mode.maps),
                }
                for mode in g.modes
            ],
            "maps": [
                {
                    "id": m.id,
                    "nameKey": m.name,
                    "coverImage": None,
                    "minimapImage": None,
                    "isReleased": m.released,
                }
                for m in g.maps
            ],
            "playlists": [],
            "modeMapPools": [
                {"modeId": mode.id, "mapIds": list(mode.maps)} for mode in g.modes if mode.maps
            ],
        }

    @staticmethod
    def acceptance_doc(a: sqlite3.Row) -> dict[str, Any]:
        """An acceptance as the emulator's own events describe it (no route returns one)."""
        return {
            "id": a["id"],
            "matchId": a["match_id"],
            "teamId": a["team_id"],
            "submittedBy": a["submitted_by"],
            "status": a["status"],
            "activeRoster": json.loads(a["active_roster"]),
            "benchRoster": json.loads(a["bench_roster"]),
            "mapPreferenceMode": a["map_preference_mode"],
            "selectedMaps": json.loads(a["selected_maps"]),
            "message": a["message"],
            "disputedRules": json.loads(a["disputed_rules"]),
            "responseMessage": a["response_message"],
            "createdAt": iso(a["created_at"]),
            "decidedAt": iso(a["decided_at"]),
        }

    # --- events ---------------------------------------------------------------------------------

    def announce_seeded(self, match_ids: list[str]) -> None:
        """Put the matches a fresh database was seeded with on the event stream, as if they had
        just been created (and published), so a watcher of the stream knows every match."""
        with self.store.transaction() as db:
            for match_id in match_ids:
                row = db.execute("SELECT publish_status FROM tb_matches WHERE id = ?", (match_id,)).fetchone()
                if row is None:
                    continue
                self._emit(db, "match.created", match_id)
                if row["publish_status"] == PublishStatus.PUBLISHED:
                    self._emit(db, "match.published", match_id)

    def _emit(self, db: sqlite3.Connection, event: str, match_id: str, **data: Any) -> None:
        """Append one webhook-shaped event about a match, in the current transaction."""
        match = db.execute("SELECT * FROM tb_matches WHERE id = ?", (match_id,)).fetchone()
        payload = {
            "id": f"whd_{next_id(db, 'delivery'):07d}",
            "event": event,
            "created_at": iso(self.now()),
            "data": {"match": self.match_detail(match), **data},
        }
        self.runtime.events.append(TEAMBATTLES, event, payload, subject=match_id)

    # --- reads ----------------------------------------------------------------------------------

    def visible_match(self, match_id: str, user_id: str) -> sqlite3.Row:
        m = self.match_row(match_id)
        if m is None or not self.can_see(m, user_id):
            raise ApiError(E.MATCH_NOT_FOUND, f"No match {match_id!r}.")
        return m

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
        params: list[Any] = [far, self.now()]
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
        return [self.match_detail(r) for r in page], nxt

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
        teams = self.team_ids_of(user_id)
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
            game = self.game(game_id)
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
            team = self.team_row(opponent)
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
        return [self.user_match(r) for r in page], done, cont

    def ongoing(self, user_id: str) -> list[dict[str, Any]]:
        teams = self.team_ids_of(user_id)
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
        return [self.match_detail(r) for r in rows]

    def user_teams(self, viewer_id: str, ref: str) -> list[dict[str, Any]]:
        user = self.user_row(ref)
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
            org = self._org_summary(t["organization_id"])
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

    def team_for_viewer(self, ref: str, viewer_id: str, *, roster: bool) -> sqlite3.Row:
        team = self._team_or_404(ref)
        member = viewer_id in self.team_facts(team["id"]).members
        hidden = team["visibility"] != "public" if roster else team["visibility"] == "private"
        if hidden and not member:
            raise ApiError(E.PROFILE_PRIVATE, "This team is not public.")
        return team

    # --- acceptance requests --------------------------------------------------------------------

    def create_acceptance(self, owner_id: str, match_id: str, draft: AcceptanceDraft) -> str:
        raise_first(check_draft_shape(draft))
        with self.store.transaction() as db:
            match = self._match_or_404(match_id)
            team = self._team_or_404(draft.team_id)
            draft = replace(draft, team_id=team["id"])
            facts = AcceptanceFacts(
                owner_id=owner_id,
                match=self.match_facts(match),
                team=self.team_facts(team["id"]),
                game=self.game_facts(match["game_id"]),
                pending_team_ids=self._pending_team_ids(match_id),
                now=self._dt(self.now()),
            )
            raise_first(check_acceptance(draft, facts))
            acceptance_id = f"acc_{next_id(db, 'acceptance'):06d}"
            db.execute(
                "INSERT INTO tb_acceptances (id, match_id, team_id, submitted_by, status,"
                " active_roster, bench_roster, map_preference_mode, selected_maps, message,"
                " disputed_rules, created_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                (
                    acceptance_id,
                    match_id,
                    team["id"],
                    owner_id,
                    AcceptanceStatus.PENDING.value,
                    json.dumps(list(draft.active_roster)),
                    json.dumps(bench_from(draft.bench)),
                    draft.map_mode.value if draft.map_mode else None,
                    json.dumps(list(draft.selected_maps)),
                    draft.message,
                    json.dumps(dict(draft.disputed_rules)),
                    self.now(),
                ),
            )
            self._emit(
                db,
                "emulator.acceptance.created",
                match_id,
                acceptance=self._acceptance(db, acceptance_id),
            )
        self.runtime.poke()
        return acceptance_id

    def _acceptance(self, db: sqlite3.Connection, acceptance_id: str) -> dict[str, Any]:
        row = db.execute("SELECT * FROM tb_acceptances WHERE id = ?", (acceptance_id,)).fetchone()
        return self.acceptance_doc(row)

    def _decision_context(
        self, owner_id: str, match_id: str, acceptance_id: str, response_message: Any
    ) -> tuple[sqlite3.Row, sqlite3.Row]:
        match = self._match_or_404(match_id)
        acc = self.store.query_one(
            "SELECT * FROM tb_acceptances WHERE id = ? AND match_id = ?", (acceptance_id, match_id)
        )
        if acc is None:
            raise ApiError(
                E.ACCEPTANCE_NOT_FOUND, f"Match {match_id!r} has no request {acceptance_id!r}."
            )
        raise_first(
            check_decision(
                owner_id,
                self.match_facts(match),
                self.team_facts(match["creator_team_id"]),
                AcceptanceStatus(acc["status"]),
                response_message,
                self._dt(self.now()),
            )
        )
        return match, acc

    def approve(
        self,
        owner_id: str,
        match_id: str,
        acceptance_id: str,
        response_message: str | None = None,
        available_maps: tuple[str, ...] | None = None,
    ) -> None:
        with self.store.transaction() as db:
            match, acc = self._decision_context(owner_id, match_id, acceptance_id, response_message)
            if available_maps:
                if len(set(available_maps)) != len(available_maps):
                    raise invalid("availableMaps lists a map more than once.")
                raise_first(
                    rule_maps_in_pool(
                        MapPreferenceMode.PREFERRED,
                        available_maps,
                        self.game_facts(match["game_id"]),
                        match["game_mode"],
                        field="availableMaps",
                    )
                )
            now = self.now()
            maps = json.dumps(list(available_maps)) if available_maps else match["selected_maps"]
            db.execute(
                "UPDATE tb_matches SET status = 'ACCEPTED', accepted_team_id = ?,"
                " selected_maps = ?, updated_at = ? WHERE id = ?",
                (acc["team_id"], maps, now, match_id),
            )
            self._add_roster(
                db,
                match_id,
                acc["team_id"],
                json.loads(acc["active_roster"]),
                json.loads(acc["bench_roster"]),
            )
            db.execute(
                "UPDATE tb_acceptances SET status = 'APPROVED', response_message = ?,"
                " decided_at = ? WHERE id = ?",
                (response_message, now, acceptance_id),
            )
            others = [
                r["id"]
                for r in db.execute(
                    "SELECT id FROM tb_acceptances WHERE match_id = ? AND status = 'PENDING'",
                    (match_id,),
                ).fetchall()
            ]
            db.execute(
                "UPDATE tb_acceptances SET status = 'SUPERSEDED', decided_at = ?"
                " WHERE match_id = ? AND status = 'PENDING'",
                (now, match_id),
            )
            self._emit(
                db,
                "match.accepted",
                match_id,
                acceptanceId=acceptance_id,
                acceptance=self._acceptance(db, acceptance_id),
            )
            self._emit(
                db,
                "roster.updated",
                match_id,
                teamId=acc["team_id"],
                players=self.players(match_id),
            )
            for other in others:
                self._emit(
                    db,
                    "emulator.acceptance.superseded",
                    match_id,
                    acceptance=self._acceptance(db, other),
                )
        self.runtime.poke()

    def decline(
        self, owner_id: str, match_id: str, acceptance_id: str, response_message: str | None = None
    ) -> None:
        with self.store.transaction() as db:
            self._decision_context(owner_id, match_id, acceptance_id, response_message)
            db.execute(
                "UPDATE tb_acceptances SET status = 'DECLINED', response_message = ?,"
                " decided_at = ? WHERE id = ?",
                (response_message, self.now(), acceptance_id),
            )
            self._emit(
                db,
                "emulator.acceptance.declined",
                match_id,
                acceptance=self._acceptance(db, acceptance_id),
            )
        self.runtime.poke()

    def _add_roster(
        self,
        db: sqlite3.Connection,
        match_id: str,
        team_id: str,
        active: Iterable[str],
        bench: Iterable[dict[str, Any]],
    ) -> None:
        for user in active:
            add_player(db, match_id, team_id, user, "ACTIVE", None)
        for entry in sorted(bench, key=lambda b: b["priority"]):
            add_player(db, match_id, team_id, entry["id"], "BENCH", entry["priority"])

    def _close_pending(self, db: sqlite3.Connection, match_id: str) -> list[str]:
        ids = [
            r[0]
            for r in db.execute(
                "SELECT id FROM tb_acceptances WHERE match_id = ? AND status = 'PENDING'",
                (match_id,),
            ).fetchall()
        ]
        db.execute(
            "UPDATE tb_acceptances SET status = 'CANCELLED', decided_at = ?"
            " WHERE match_id = ? AND status = 'PENDING'",
            (self.now(), match_id),
        )
        return ids

    # --- challenges -----------------------------------------------------------------------------

    def _challenge(self, match_id: str) -> tuple[sqlite3.Row, TeamFacts]:
        match = self._match_or_404(match_id)
        if match["challenged_team_id"] is None:
            raise ApiError(E.MATCH_NOT_IN_VALID_STATE, "The match is not a direct challenge.")
        return match, self.team_facts(match["challenged_team_id"])

    def accept_challenge(self, owner_id: str, match_id: str, roster: RosterDraft) -> None:
        with self.store.transaction() as db:
            match, team = self._challenge(match_id)
            raise_first(
                check_challenge_response(
                    owner_id, roster, self.match_facts(match), team, self._dt(self.now())
                )
            )
            db.execute(
                "UPDATE tb_matches SET status = 'ACCEPTED', accepted_team_id = ?, updated_at = ?"
                " WHERE id = ?",
                (team.id, self.now(), match_id),
            )
            self._add_roster(db, match_id, team.id, roster.active, bench_from(roster.bench))
            self._emit(
                db,
                "emulator.challenge.accepted",
                match_id,
                teamId=team.id,
                players=self.players(match_id),
            )
        self.runtime.poke()

    def refuse_challenge(self, owner_id: str, match_id: str, reason: str | None) -> None:
        with self.store.transaction() as db:
            raise_first(rule_message(reason, field="reason", limit=REASON_MAX_LENGTH))
            match, team = self._challenge(match_id)
            raise_first(
                check_challenge_refusal(
                    owner_id, self.match_facts(match), team, self._dt(self.now())
                )
            )
            db.execute(
                "UPDATE tb_matches SET status = 'CANCELLED', cancel_reason = ?, updated_at = ?"
                " WHERE id = ?",
                (reason or "Challenge refused.", self.now(), match_id),
            )
            self._emit(db, "emulator.challenge.refused", match_id, teamId=team.id, reason=reason)
        self.runtime.poke()

    # --- the creator's side ---------------------------------------------------------------------

    def create_match(self, owner_id: str, new: NewMatch) -> str:
        with self.store.transaction() as db:
            team_row = self._team_or_404(new.team_id)
            team = self.team_facts(team_row["id"])
            game = self.game(new.game_id)
            if game is None:
                raise invalid(f"gameId {new.game_id!r} is not a game in the catalog.")
            if game.coming_soon:
                raise invalid(f"{game.name} is not open for matches yet.")
            checks: list[Violation] = (
                rule_owner_leads_team(owner_id, team)
                or rule_team_plays_game(team, game.convex_id)
                or rule_team_not_banned(team)
            )
            raise_first(checks)
            if new.game_mode not in {mode.id for mode in game.modes}:
                raise invalid(f"gameModeId {new.game_mode!r} is not a mode of {game.name}.")
            raise_first(rule_roster(new.roster, team, new.team_size))
            raise_first(
                rule_maps_in_pool(
                    MapPreferenceMode.PREFERRED,
                    new.selected_maps,
                    self.game_facts(game.convex_id),
                    new.game_mode,
                )
            )
            if len(set(new.selected_maps)) != len(new.selected_maps):
                raise invalid("selectedMaps lists a map more than once.")
            now = self.now()
            if new.scheduled_at is not None and new.scheduled_at <= now:
                raise invalid("scheduledAt must be in the future.")
            challenged = None
            if new.challenged_team_id is not None:
                other = self._team_or_404(new.challenged_team_id)
                if other["id"] == team.id:
                    raise invalid("A team cannot challenge itself.")
                other_facts = self.team_facts(other["id"])
                raise_first(rule_team_plays_game(other_facts, game.convex_id))
                challenged = other["id"]
            match_id = f"tbm_{next_id(db, 'match'):06d}"
            db.execute(
                "INSERT INTO tb_matches (id, status, publish_status, game_id, game_mode,"
                " match_type, map_selection_type, map_preference_mode, platform, input_device,"
                " region, team_size, best_of, creator_team_id, creator_user_id,"
                " challenged_team_id, selected_maps, selected_objectives, wager_amount, notes,"
                " league_id, scheduled_at, created_at, updated_at)"
                " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (
                    match_id,
                    "PENDING",
                    new.publish_status,
                    game.convex_id,
                    new.game_mode,
                    new.match_type,
                    new.map_selection_type,
                    new.map_preference_mode,
                    new.platform,
                    new.input_device,
                    new.region,
                    new.team_size,
                    new.best_of,
                    team.id,
                    owner_id,
                    challenged,
                    json.dumps(list(new.selected_maps)),
                    json.dumps(list(new.selected_objectives)),
                    new.wager_amount,
                    new.notes,
                    new.league_id,
                    new.scheduled_at,
                    now,
                    now,
                ),
            )
            self._add_roster(db, match_id, team.id, new.roster.active, bench_from(new.roster.bench))
            self._emit(db, "match.created", match_id)
            if new.publish_status == PublishStatus.PUBLISHED:
                self._emit(db, "match.published", match_id)
        self.runtime.poke()
        return match_id

    def _may_manage(self, owner_id: str, match: sqlite3.Row, teams: Iterable[str | None]) -> bool:
        if match["creator_user_id"] == owner_id:
            return True
        return any(t is not None and leads_team(owner_id, self.team_facts(t)) for t in teams)

    def publish(self, owner_id: str, match_id: str) -> None:
        with self.store.transaction() as db:
            match = self._match_or_404(match_id)
            if not self.can_see(match, owner_id):
                raise ApiError(E.MATCH_NOT_FOUND, f"No match {match_id!r}.")
            if not self._may_manage(owner_id, match, [match["creator_team_id"]]):
                raise ApiError(
                    E.NOT_TEAM_LEADER, "Only the creating team's leaders can publish it."
                )
            if match["publish_status"] != PublishStatus.DRAFT or match["status"] != "PENDING":
                raise ApiError(
                    E.MATCH_NOT_IN_VALID_STATE,
                    f"Only a PENDING draft can be published; this match is "
                    f"{match['status']}/{match['publish_status']}.",
                    status=400,
                )
            if match["scheduled_at"] is not None and match["scheduled_at"] <= self.now():
                raise ApiError(
                    E.MATCH_NOT_IN_VALID_STATE,
                    "The match's scheduled start has passed.",
                    status=400,
                )
            db.execute(
                "UPDATE tb_matches SET publish_status = 'PUBLISHED', updated_at = ? WHERE id = ?",
                (self.now(), match_id),
            )
            self._emit(db, "match.published", match_id)
        self.runtime.poke()

    def cancel(self, owner_id: str, match_id: str, reason: str | None) -> None:
        with self.store.transaction() as db:
            raise_first(rule_message(reason, field="reason", limit=REASON_MAX_LENGTH))
            match = self._match_or_404(match_id)
            if not self.can_see(match, owner_id):
                raise ApiError(E.MATCH_NOT_FOUND, f"No match {match_id!r}.")
            teams = [match["creator_team_id"], match["accepted_team_id"]]
            if not self._may_manage(owner_id, match, teams):
                raise ApiError(
                    E.NOT_TEAM_LEADER, "Only the leaders of a team in the match can cancel it."
                )
            if match["status"] not in ("PENDING", "ACCEPTED", "READY"):
                raise ApiError(
                    E.MATCH_NOT_IN_VALID_STATE,
                    f"The match is {match['status']}; it can no longer be cancelled.",
                )
            self._cancel(db, match_id, reason or "Cancelled by its creator.")
        self.runtime.poke()

    def _cancel(self, db: sqlite3.Connection, match_id: str, reason: str) -> None:
        db.execute(
            "UPDATE tb_matches SET status = 'CANCELLED', cancel_reason = ?, updated_at = ?"
            " WHERE id = ?",
            (reason, self.now(), match_id),
        )
        closed = self._close_pending(db, match_id)
        self._emit(db, "match.cancelled", match_id, reason=reason)
        for acceptance_id in closed:
            self._emit(
                db,
                "emulator.acceptance.cancelled",
                match_id,
                acceptance=self._acceptance(db, acceptance_id),
            )

    # --- time-driven changes --------------------------------------------------------------------

    def tick(self, now: float) -> float | None:
        """Cancel open matches whose start passed unaccepted; start accepted ones that are due.
        Returns when the next such start is."""
        due = self.store.query(
            "SELECT id, status FROM tb_matches WHERE scheduled_at IS NOT NULL AND scheduled_at <= ?"
            " AND status IN ('PENDING', 'ACCEPTED', 'READY') ORDER BY scheduled_at, seq",
            (now,),
        )
        for row in due:
            try:
                with self.store.transaction() as db:
                    if row["status"] == "PENDING":
                        self._cancel(db, row["id"], EXPIRED_REASON)
                    else:
                        db.execute(
                            "UPDATE tb_matches SET status = 'IN_PROGRESS', started_at = ?,"
                            " updated_at = ? WHERE id = ?",
                            (now, now, row["id"]),
                        )
                        self._emit(db, "match.started", row["id"])
            except sqlite3.Error:
                log.exception("could not move match %s on", row["id"])
        nxt = self.store.query_one(
            "SELECT MIN(scheduled_at) FROM tb_matches WHERE scheduled_at > ?"
            " AND status IN ('PENDING', 'ACCEPTED', 'READY')",
            (now,),
        )
        return None if nxt is None or nxt[0] is None else float(nxt[0])

    def purge_idempotency(self, now: float, ttl: float) -> None:
        with self.store.transaction() as db:
            db.execute("DELETE FROM tb_idempotency WHERE created_at <= ?", (now - ttl,))


def bench_from(entries: Sequence[BenchEntry]) -> list[dict[str, Any]]:
    return [{"id": b.user_id, "priority": b.priority} for b in entries]
