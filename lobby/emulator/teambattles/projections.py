"""TeamBattles rows in the shapes of the published contract (and of the emulator's own events)."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from typing import Any

from lobby.emulator.store import Store
from lobby.emulator.teambattles.lookups import Lookups
from lobby.emulator.teambattles.scenario import GameSpec
from lobby.emulator.teambattles.wire import iso

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


@dataclass(slots=True)
class Projections:
    store: Store
    lookups: Lookups

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
        game = self.lookups.game(game_id)
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
            for r in self.lookups.members(team_id)
        ]

    def team_profile(self, t: sqlite3.Row, viewer_id: str) -> dict[str, Any]:
        members = self.lookups.members(t["id"])
        played = self.store.query(
            "SELECT winner_team_id FROM tb_matches WHERE status = 'COMPLETED'"
            " AND (creator_team_id = ? OR accepted_team_id = ?)",
            (t["id"], t["id"]),
        )
        wins = sum(1 for r in played if r[0] == t["id"])
        draws = sum(1 for r in played if r[0] is None)
        return {
            **summary(t),
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

    def org_summary(self, org_id: str | None) -> dict[str, Any] | None:
        if org_id is None:
            return None
        o = self.store.query_one("SELECT * FROM tb_organizations WHERE id = ?", (org_id,))
        if o is None:
            return None
        return summary(o)

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


def summary(row: sqlite3.Row) -> dict[str, Any]:
    """What a team's and an organization's shapes both open with."""
    return {
        "id": row["id"],
        "slug": row["slug"],
        "name": row["name"],
        "tag": row["tag"],
        "avatarUrl": None,
        "visibility": row["visibility"],
    }
