"""How a match gets its opponent: acceptance requests (made, approved, declined) and direct
challenges (accepted, refused). Each change happens in one transaction with its events."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from lobby.core.clock import Clock
from lobby.emulator.store import Store
from lobby.emulator.teambattles.db import add_roster, bench_from, next_id
from lobby.emulator.teambattles.errors import ApiError, invalid, raise_first
from lobby.emulator.teambattles.lookups import Lookups, as_datetime
from lobby.emulator.teambattles.projections import Projections
from lobby.emulator.teambattles.webhooks import Webhooks
from lobby.core.answers import (
    AcceptanceDraft,
    AcceptanceFacts,
    MapPreferenceMode,
    RosterDraft,
    TeamFacts,
)
from lobby.teambattles.vocab import REASON_MAX_LENGTH, AcceptanceStatus
from lobby.teambattles.rules import (
    check_acceptance,
    check_challenge_refusal,
    check_challenge_response,
    check_decision,
    check_draft_shape,
    rule_maps_in_pool,
    rule_message,
)
from lobby.teambattles.vocab import ErrorCode as E
from lobby.teambattles.vocab import EventType


@dataclass(slots=True)
class Acceptances:
    store: Store
    clock: Clock
    poke: Callable[[], None]
    lookups: Lookups
    projections: Projections
    webhooks: Webhooks

    def create_acceptance(self, owner_id: str, match_id: str, draft: AcceptanceDraft) -> str:
        raise_first(check_draft_shape(draft))
        with self.store.transaction() as db:
            match = self.lookups.match_or_404(match_id)
            team = self.lookups.team_or_404(draft.team_id)
            draft = replace(draft, team_id=team["id"])
            facts = AcceptanceFacts(
                owner_id=owner_id,
                match=self.lookups.match_facts(match),
                team=self.lookups.team_facts(team["id"]),
                game=self.lookups.game_facts(match["game_id"]),
                pending_team_ids=self.lookups.pending_team_ids(match_id),
                now=as_datetime(self.clock.timestamp()),
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
                    self.clock.timestamp(),
                ),
            )
            self.webhooks.emit(
                db,
                EventType.ACCEPTANCE_CREATED,
                match_id,
                acceptance=self.webhooks.acceptance(db, acceptance_id),
            )
        self.poke()
        return acceptance_id

    def _decision_context(
        self, owner_id: str, match_id: str, acceptance_id: str, response_message: Any
    ) -> tuple[sqlite3.Row, sqlite3.Row]:
        match = self.lookups.match_or_404(match_id)
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
                self.lookups.match_facts(match),
                self.lookups.team_facts(match["creator_team_id"]),
                AcceptanceStatus(acc["status"]),
                response_message,
                as_datetime(self.clock.timestamp()),
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
                        self.lookups.game_facts(match["game_id"]),
                        match["game_mode"],
                        field="availableMaps",
                    )
                )
            now = self.clock.timestamp()
            maps = json.dumps(list(available_maps)) if available_maps else match["selected_maps"]
            db.execute(
                "UPDATE tb_matches SET status = 'ACCEPTED', accepted_team_id = ?,"
                " selected_maps = ?, updated_at = ? WHERE id = ?",
                (acc["team_id"], maps, now, match_id),
            )
            add_roster(
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
            self.webhooks.emit(
                db,
                EventType.MATCH_ACCEPTED,
                match_id,
                acceptanceId=acceptance_id,
                acceptance=self.webhooks.acceptance(db, acceptance_id),
            )
            self.webhooks.emit(
                db,
                EventType.ROSTER_UPDATED,
                match_id,
                teamId=acc["team_id"],
                players=self.projections.players(match_id),
            )
            for other in others:
                self.webhooks.emit(
                    db,
                    EventType.ACCEPTANCE_SUPERSEDED,
                    match_id,
                    acceptance=self.webhooks.acceptance(db, other),
                )
        self.poke()

    def decline(
        self, owner_id: str, match_id: str, acceptance_id: str, response_message: str | None = None
    ) -> None:
        with self.store.transaction() as db:
            self._decision_context(owner_id, match_id, acceptance_id, response_message)
            db.execute(
                "UPDATE tb_acceptances SET status = 'DECLINED', response_message = ?,"
                " decided_at = ? WHERE id = ?",
                (response_message, self.clock.timestamp(), acceptance_id),
            )
            self.webhooks.emit(
                db,
                EventType.ACCEPTANCE_DECLINED,
                match_id,
                acceptance=self.webhooks.acceptance(db, acceptance_id),
            )
        self.poke()

    def _challenge(self, match_id: str) -> tuple[sqlite3.Row, TeamFacts]:
        match = self.lookups.match_or_404(match_id)
        if match["challenged_team_id"] is None:
            raise ApiError(E.MATCH_NOT_CHALLENGE, "The match is not a direct challenge.")
        return match, self.lookups.team_facts(match["challenged_team_id"])

    def accept_challenge(self, owner_id: str, match_id: str, roster: RosterDraft) -> None:
        with self.store.transaction() as db:
            match, team = self._challenge(match_id)
            raise_first(
                check_challenge_response(
                    owner_id, roster, self.lookups.match_facts(match), team, as_datetime(self.clock.timestamp())
                )
            )
            db.execute(
                "UPDATE tb_matches SET status = 'ACCEPTED', accepted_team_id = ?, updated_at = ?"
                " WHERE id = ?",
                (team.id, self.clock.timestamp(), match_id),
            )
            add_roster(db, match_id, team.id, roster.active, bench_from(roster.bench))
            self.webhooks.emit(
                db,
                EventType.CHALLENGE_ACCEPTED,
                match_id,
                teamId=team.id,
                players=self.projections.players(match_id),
            )
        self.poke()

    def refuse_challenge(self, owner_id: str, match_id: str, reason: str | None) -> None:
        with self.store.transaction() as db:
            raise_first(rule_message(reason, field="reason", limit=REASON_MAX_LENGTH))
            match, team = self._challenge(match_id)
            raise_first(
                check_challenge_refusal(
                    owner_id, self.lookups.match_facts(match), team, as_datetime(self.clock.timestamp())
                )
            )
            db.execute(
                "UPDATE tb_matches SET status = 'CANCELLED', cancel_reason = ?, updated_at = ?"
                " WHERE id = ?",
                (reason or "Challenge refused.", self.clock.timestamp(), match_id),
            )
            self.webhooks.emit(db, EventType.CHALLENGE_REFUSED, match_id, teamId=team.id, reason=reason)
        self.poke()
