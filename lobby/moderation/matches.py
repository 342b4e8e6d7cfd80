"""TeamBattles matches on the moderator's board: webhook-shaped events folded into match rows.

One row per match; its progress counts the approved requests among those seen.
"""

from __future__ import annotations

from typing import Any

from lobby.core.events import parse_time
from lobby.moderation.events import ModEvent
from lobby.moderation.ledger import Ledger
from lobby.moderation.rows import TEAMBATTLES_DEADLINE, Kind, Row


class MatchRows:
    """TeamBattles events onto the ledger's match rows."""

    def __init__(self, ledger: Ledger) -> None:
        self._ledger = ledger
        self._acceptances: dict[str, dict[str, str]] = {}  # match id -> acceptance id -> status

    def forget(self, row: Row) -> None:
        """``row`` left the board."""
        self._acceptances.pop(row.id, None)

    def apply(self, event: ModEvent) -> bool:
        data = event.body
        match = data.get("match")
        if not isinstance(match, dict) or not isinstance(match.get("id"), str):
            return False
        when = event.time
        created = _time(match.get("createdAt"))
        row = self._ledger.row(Kind.MATCH, match["id"], created if created is not None else when)
        row.match_id = row.id
        self._ledger.place(row, event.region)
        if created is not None and created < row.created:
            row.created = created
        game = match.get("game")
        name = (game.get("nameKey") or game.get("id") or "") if isinstance(game, dict) else ""
        mode = match.get("gameMode") or ""
        group = " · ".join(str(x) for x in (name, mode) if x)
        if group:
            row.group = group
        teams: list[str] = []
        team_ids: list[str] = []
        for field_name in ("creatorTeam", "acceptedTeam", "challengedTeam"):
            team = match.get(field_name)
            if isinstance(team, dict):
                if isinstance(team.get("name"), str) and team["name"] not in teams:
                    if field_name == "challengedTeam" and match.get("acceptedTeam"):
                        continue
                    teams.append(team["name"])
                if isinstance(team.get("id"), str):
                    team_ids.append(team["id"])
        row.teams = tuple(teams)

        acceptances = self._acceptances.setdefault(row.id, {})
        acceptance = data.get("acceptance")
        if isinstance(acceptance, dict) and isinstance(acceptance.get("id"), str):
            acceptances[acceptance["id"]] = str(acceptance.get("status") or "PENDING")
            if isinstance(acceptance.get("teamId"), str):
                team_ids.append(acceptance["teamId"])
        if event.type == "match.accepted" and isinstance(data.get("acceptanceId"), str):
            acceptances[data["acceptanceId"]] = "APPROVED"
        if isinstance(data.get("teamId"), str):
            team_ids.append(data["teamId"])
        row.team_ids = tuple(dict.fromkeys((*row.team_ids, *team_ids)))
        players = data.get("players")
        if isinstance(players, list):
            for p in players:
                if isinstance(p, dict) and isinstance(p.get("userId"), str):
                    label = p.get("username") or p.get("name")
                    row.players[p["userId"]] = label if isinstance(label, str) else None
        row.accepted = sum(1 for s in acceptances.values() if s == "APPROVED")
        row.total = len(acceptances)

        status = match.get("status")
        if isinstance(status, str) and status:
            self._ledger.set_status(row, status, when)
        scheduled = _time(match.get("scheduledAt"))
        row.deadline = scheduled if row.status in TEAMBATTLES_DEADLINE else None
        if not row.live and event.type == "match.cancelled":
            reason = data.get("reason")
            row.reason = reason if isinstance(reason, str) and reason else row.reason
        self._ledger.note(row, event, _teambattles_words(event.type, data))
        return True


def _teambattles_words(kind: str, data: dict[str, Any]) -> str:
    acceptance = data.get("acceptance")
    team = (acceptance.get("teamId") if isinstance(acceptance, dict) else None) or data.get("teamId") or ""
    reason = data.get("reason") if isinstance(data.get("reason"), str) else ""
    words = {
        "match.created": "Match created.",
        "match.published": "Match published: open to challengers.",
        "match.accepted": f"Request from {team} approved.",
        "roster.updated": f"Roster of {team} set.",
        "match.cancelled": f"Match cancelled{': ' + reason if reason else ''}.",
        "match.started": "Match started.",
        "emulator.acceptance.created": f"Acceptance request from {team}.",
        "emulator.acceptance.declined": f"Request from {team} declined.",
        "emulator.acceptance.superseded": f"Request from {team} superseded.",
        "emulator.acceptance.cancelled": f"Request from {team} cancelled.",
        "emulator.challenge.accepted": f"Challenge accepted by {team}.",
        "emulator.challenge.refused": f"Challenge refused by {team}{': ' + reason if reason else ''}.",
    }
    return words.get(kind, f"{kind}.")



_time = parse_time
