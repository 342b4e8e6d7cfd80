"""Placing an accepted match: its game session starts (or, rarely by scenario, fails), and its
tickets complete with their connection details."""

from __future__ import annotations

import random
import re
import uuid
from dataclasses import dataclass
from typing import Any

from lobby.emulator.flexmatch import notifications as ev
from lobby.emulator.flexmatch.catalog import Catalog
from lobby.emulator.flexmatch.lifecycle import REASON_FAILED, Lifecycle
from lobby.emulator.flexmatch.matches import Matches
from lobby.emulator.flexmatch.names import Arns
from lobby.emulator.flexmatch.scenario import FlexMatchScenario
from lobby.flexmatch.lifecycle import TicketStatus

S = TicketStatus
_IP_LIKE = re.compile(r"^[0-9A-Fa-f:.]+$")


@dataclass(slots=True)
class Placement:
    scenario: FlexMatchScenario
    public_host: str
    catalog: Catalog
    lifecycle: Lifecycle
    matches: Matches
    notifier: ev.Notifier
    arns: Arns

    def place(self, db: Any, match_id: str, now: float) -> None:
        """Placement finished: the game session is up (or, rarely by scenario, it failed)."""
        match, tickets, _ = self.matches.match_tickets(db, match_id)
        config = self.catalog.config_for(match[2])
        arn = self.arns.configuration(config.name)
        chance = self.scenario.placement_failure_probability
        if chance and random.Random(f"{self.scenario.seed}:placement:{match[0]}").random() < chance:
            message = "The game session for this match could not be started."
            for t in tickets:
                self.lifecycle.set_status(db, t, S.FAILED, now, reason=REASON_FAILED, message=message)
            db.execute("UPDATE fm_matches SET status='FAILED' WHERE match_id=?", (match_id,))
            self.notifier.emit(
                ev.FAILED, now=now, config_arn=arn, tickets=self.matches.entries(tickets),
                subject=match_id, custom_event_data=config.custom_event_data,
                reason=REASON_FAILED, message=message, matchId=match_id,
            )  # fmt: skip
            return
        session_arn = self.arns.game_session(match_id, config.name)
        port = 7000 + (match[0] % 1000)
        host = self.public_host
        where: dict[str, Any]
        if _IP_LIKE.fullmatch(host):
            where = {"IpAddress": host}
        elif host == "localhost":
            where = {"IpAddress": "127.0.0.1", "DnsName": host}
        else:
            where = {"DnsName": host}
        session_players = []
        for t in tickets:
            sessions = [
                {"PlayerId": p["PlayerId"], "PlayerSessionId": f"psess-{uuid.uuid4()}"}
                for p in t.players
            ]
            info = {"GameSessionArn": session_arn, **where, "Port": port}
            info["MatchedPlayerSessions"] = sessions
            self.lifecycle.set_status(db, t, S.COMPLETED, now, connection=info)
            teams = {p["PlayerId"]: p.get("Team") for p in t.players}
            for s in sessions:
                entry = {"playerId": s["PlayerId"], "playerSessionId": s["PlayerSessionId"]}
                if teams.get(s["PlayerId"]):
                    entry["team"] = teams[s["PlayerId"]]
                session_players.append(entry)
        db.execute("UPDATE fm_matches SET status='COMPLETED', due=NULL WHERE match_id=?", (match_id,))
        game_session = {"gameSessionArn": session_arn, "port": port, "players": session_players}
        game_session["ipAddress"] = where.get("IpAddress", host)
        self.notifier.emit(
            ev.SUCCEEDED, now=now, config_arn=arn, tickets=self.matches.entries(tickets),
            subject=match_id, custom_event_data=config.custom_event_data,
            gameSessionInfo=game_session, matchId=match_id,
        )  # fmt: skip
