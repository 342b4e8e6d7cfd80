"""The TeamBattles events on the emulator's stream, shaped like the service's webhooks: one about
a match per change, appended in the transaction that makes the change."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import Any

from lobby.teambattles.vocab import EventType
from lobby.core.clock import Clock
from lobby.core.events import EventSource
from lobby.emulator.events import EventLog
from lobby.emulator.store import Store
from lobby.emulator.teambattles.db import next_id
from lobby.emulator.teambattles.projections import Projections
from lobby.emulator.teambattles.wire import iso
from lobby.core.answers import PublishStatus


@dataclass(slots=True)
class Webhooks:
    store: Store
    clock: Clock
    events: EventLog
    projections: Projections

    def emit(self, db: sqlite3.Connection, event: str, match_id: str, **data: Any) -> None:
        """Append one webhook-shaped event about a match, in the current transaction."""
        match = db.execute("SELECT * FROM tb_matches WHERE id = ?", (match_id,)).fetchone()
        payload = {
            "id": f"whd_{next_id(db, 'delivery'):07d}",
            "event": event,
            "created_at": iso(self.clock.timestamp()),
            "data": {"match": self.projections.match_detail(match), **data},
        }
        self.events.append(EventSource.TEAMBATTLES, event, payload, subject=match_id)

    def acceptance(self, db: sqlite3.Connection, acceptance_id: str) -> dict[str, Any]:
        row = db.execute("SELECT * FROM tb_acceptances WHERE id = ?", (acceptance_id,)).fetchone()
        return self.projections.acceptance_doc(row)

    def announce_seeded(self, match_ids: list[str]) -> None:
        """Put the matches a fresh database was seeded with on the event stream, as if they had
        just been created (and published), so a watcher of the stream knows every match."""
        with self.store.transaction() as db:
            for match_id in match_ids:
                row = db.execute("SELECT publish_status FROM tb_matches WHERE id = ?", (match_id,)).fetchone()
                if row is None:
                    continue
                self.emit(db, EventType.MATCH_CREATED, match_id)
                if row["publish_status"] == PublishStatus.PUBLISHED:
                    self.emit(db, EventType.MATCH_PUBLISHED, match_id)
