"""A match from its creator's side and the clock's: created, published, cancelled; cancelled when
its start passes without an opponent, started when its start comes."""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from lobby.core.clock import Clock
from lobby.emulator.store import Store
from lobby.emulator.teambattles.db import add_roster, bench_from, next_id
from lobby.emulator.teambattles.errors import ApiError, invalid, raise_first
from lobby.emulator.teambattles.lookups import Lookups
from lobby.emulator.teambattles.webhooks import Webhooks
from lobby.core.answers import TeamRole
from lobby.core.answers import MapPreferenceMode, PublishStatus, RosterDraft, Violation
from lobby.teambattles.vocab import REASON_MAX_LENGTH
from lobby.teambattles.rules import (
    leads_team,
    rule_maps_in_pool,
    rule_message,
    rule_owner_leads_team,
    rule_roster,
    rule_team_not_banned,
    rule_team_plays_game,
)
from lobby.teambattles.vocab import ErrorCode as E
from lobby.teambattles.vocab import EventType

log = logging.getLogger(__name__)

#: How a match that never got an opponent is cancelled when its start passes.
EXPIRED_REASON = "No team was accepted before the scheduled start."


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


@dataclass(slots=True)
class Matches:
    store: Store
    clock: Clock
    poke: Callable[[], None]
    lookups: Lookups
    webhooks: Webhooks

    def create_match(self, owner_id: str, new: NewMatch) -> str:
        with self.store.transaction() as db:
            team_row = self.lookups.team_or_404(new.team_id)
            team = self.lookups.team_facts(team_row["id"])
            game = self.lookups.game(new.game_id)
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
                raise invalid(
                    f"gameModeId {new.game_mode!r} is not a mode of {game.name}.", E.INVALID_GAME_MODE
                )
            raise_first(rule_roster(new.roster, team, new.team_size))
            raise_first(
                rule_maps_in_pool(
                    MapPreferenceMode.PREFERRED,
                    new.selected_maps,
                    self.lookups.game_facts(game.convex_id),
                    new.game_mode,
                )
            )
            if len(set(new.selected_maps)) != len(new.selected_maps):
                raise invalid("selectedMaps lists a map more than once.")
            now = self.clock.timestamp()
            if new.scheduled_at is not None and new.scheduled_at <= now:
                raise invalid("scheduledAt must be in the future.")
            challenged = None
            if new.challenged_team_id is not None:
                other = self.lookups.team_or_404(new.challenged_team_id)
                if other["id"] == team.id:
                    raise invalid("A team cannot challenge itself.", E.CANNOT_CHALLENGE_SELF)
                other_facts = self.lookups.team_facts(other["id"])
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
            add_roster(db, match_id, team.id, new.roster.active, bench_from(new.roster.bench))
            self.webhooks.emit(db, EventType.MATCH_CREATED, match_id)
            if new.publish_status == PublishStatus.PUBLISHED:
                self.webhooks.emit(db, EventType.MATCH_PUBLISHED, match_id)
        self.poke()
        return match_id

    def _may_manage(self, owner_id: str, match: sqlite3.Row, teams: Iterable[str | None]) -> bool:
        if match["creator_user_id"] == owner_id:
            return True
        return any(t is not None and leads_team(owner_id, self.lookups.team_facts(t)) for t in teams)

    def may_cancel(self, owner_id: str, match: sqlite3.Row) -> bool:
        """cancel-match.mdx: a pending challenge only by the creator team's leadership; any
        other match by its creator, the creator team's leadership or the accepted team's
        captain (the page's "captain a participating team"; docs/emulator-decisions.md)."""
        creator = self.lookups.team_facts(match["creator_team_id"])
        if match["creator_user_id"] == owner_id or leads_team(owner_id, creator):
            return True
        challenge = match["challenged_team_id"] is not None and match["status"] == "PENDING"
        accepted = match["accepted_team_id"]
        if challenge or accepted is None:
            return False
        return self.lookups.team_facts(accepted).members.get(owner_id) == TeamRole.CAPTAIN

    def publish(self, owner_id: str, match_id: str) -> None:
        with self.store.transaction() as db:
            match = self.lookups.match_or_404(match_id)
            if not self.lookups.can_see(match, owner_id):
                raise ApiError(E.MATCH_NOT_FOUND, f"No match {match_id!r}.")
            if not self._may_manage(owner_id, match, [match["creator_team_id"]]):
                raise ApiError(
                    E.NOT_TEAM_LEADER, "Only the creating team's leaders can publish it."
                )
            if match["publish_status"] != PublishStatus.DRAFT:
                raise ApiError(
                    E.MATCH_ALREADY_PUBLISHED,
                    f"Only a draft can be published; this match is {match['publish_status']}.",
                    status=400,
                )
            if match["status"] != "PENDING":
                raise ApiError(
                    E.MATCH_ALREADY_STARTED,
                    f"Only a PENDING draft can be published; this match is {match['status']}.",
                    status=400,
                )
            if match["scheduled_at"] is not None and match["scheduled_at"] <= self.clock.timestamp():
                raise ApiError(
                    E.MATCH_ALREADY_STARTED,
                    "The match's scheduled start has passed.",
                    status=400,
                )
            db.execute(
                "UPDATE tb_matches SET publish_status = 'PUBLISHED', updated_at = ? WHERE id = ?",
                (self.clock.timestamp(), match_id),
            )
            self.webhooks.emit(db, EventType.MATCH_PUBLISHED, match_id)
        self.poke()

    def cancel(self, owner_id: str, match_id: str, reason: str | None) -> None:
        with self.store.transaction() as db:
            raise_first(rule_message(reason, field="reason", limit=REASON_MAX_LENGTH))
            match = self.lookups.match_or_404(match_id)
            if not self.lookups.can_see(match, owner_id):
                raise ApiError(E.MATCH_NOT_FOUND, f"No match {match_id!r}.")
            if not self.may_cancel(owner_id, match):
                raise ApiError(
                    E.NOT_TEAM_LEADER, "Only the leaders of a team in the match can cancel it."
                )
            if match["status"] not in ("PENDING", "ACCEPTED", "READY"):
                raise ApiError(
                    E.MATCH_ALREADY_STARTED,
                    f"The match is {match['status']}; it can no longer be cancelled.",
                )
            self._cancel(db, match_id, reason or "Cancelled by its creator.")
        self.poke()

    def _cancel(self, db: sqlite3.Connection, match_id: str, reason: str) -> None:
        db.execute(
            "UPDATE tb_matches SET status = 'CANCELLED', cancel_reason = ?, updated_at = ?"
            " WHERE id = ?",
            (reason, self.clock.timestamp(), match_id),
        )
        closed = self._close_pending(db, match_id)
        self.webhooks.emit(db, EventType.MATCH_CANCELLED, match_id, reason=reason)
        for acceptance_id in closed:
            self.webhooks.emit(
                db,
                EventType.ACCEPTANCE_CANCELLED,
                match_id,
                acceptance=self.webhooks.acceptance(db, acceptance_id),
            )

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
            (self.clock.timestamp(), match_id),
        )
        return ids

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
                        self.webhooks.emit(db, EventType.MATCH_STARTED, row["id"])
            except sqlite3.Error:
                log.exception("could not move match %s on", row["id"])
        nxt = self.store.query_one(
            "SELECT MIN(scheduled_at) FROM tb_matches WHERE scheduled_at > ?"
            " AND status IN ('PENDING', 'ACCEPTED', 'READY')",
            (now,),
        )
        return None if nxt is None or nxt[0] is None else float(nxt[0])
