"""The FlexMatch schema's migrations on a database file written by an earlier schema."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from lobby.emulator.flexmatch.bots import PENDING_ANSWERS
from lobby.emulator.flexmatch.schema import COMPONENT, MIGRATIONS
from lobby.emulator.store import Store

TICKET = (
    "INSERT INTO fm_tickets (ticket_id, config_name, status, start_time, players, request_deadline,"
    " queued_until, searching_since) VALUES (?, 'cfg', ?, 1.0, '[]', ?, ?, ?)"
)

#: What the scheduler asks by status, and the index each question must be answered from.
LOOKUPS = [
    (
        "SELECT match_id FROM fm_matches WHERE status='PROPOSED' AND deadline <= 50 ORDER BY deadline, seq",
        "fm_matches_deadline",
    ),
    (
        "SELECT match_id FROM fm_matches WHERE status='PLACING' AND due <= 50 ORDER BY due, seq",
        "fm_matches_due",
    ),
    (
        "SELECT seq FROM fm_tickets WHERE status='QUEUED' AND queued_until <= 50 ORDER BY seq",
        "fm_tickets_queued",
    ),
    (
        "SELECT seq FROM fm_tickets WHERE status IN ('QUEUED', 'SEARCHING')"
        " AND request_deadline <= 50 ORDER BY request_deadline, seq",
        "fm_tickets_deadline",
    ),
    (
        "SELECT seq FROM fm_tickets WHERE status='SEARCHING' AND config_name='cfg'"
        " ORDER BY searching_since, seq",
        "fm_tickets_searching",
    ),
    ("SELECT DISTINCT config_name FROM fm_tickets WHERE status='SEARCHING'", "fm_tickets_searching"),
    (PENDING_ANSWERS, "fm_matches_deadline"),
]


def test_an_earlier_database_file_migrates_keeping_its_rows(tmp_path: Path):
    path = tmp_path / "old.db"
    old = Store(path)
    old.migrate(COMPONENT, MIGRATIONS[:1])
    with old.transaction() as db:
        db.execute(TICKET, ("t-queued", "QUEUED", 40.0, 10.0, None))
        db.execute(TICKET, ("t-searching", "SEARCHING", 30.0, None, 5.0))
        db.execute(TICKET, ("t-done", "COMPLETED", 20.0, None, 5.0))
        db.execute(
            "INSERT INTO fm_ticket_players (ticket_id, player_id, position) VALUES ('t-queued', 'p1', 0)"
        )
        db.execute(
            "INSERT INTO fm_matches (match_id, config_name, status, proposed_at, acceptance_required,"
            " deadline, tickets) VALUES ('m1', 'cfg', 'PROPOSED', 1.0, 1, 12.0, '[]')"
        )
    old.close()

    store = Store(path)
    try:
        store.migrate(COMPONENT, MIGRATIONS)
        versions = {
            r[0] for r in store.query("SELECT version FROM schema_migrations WHERE component=?", (COMPONENT,))
        }
        assert versions == set(range(1, len(MIGRATIONS) + 1))
        assert [r[0] for r in store.query("SELECT ticket_id FROM fm_tickets ORDER BY seq")] == [
            "t-queued",
            "t-searching",
            "t-done",
        ]
        assert [r[0] for r in store.query(LOOKUPS[0][0])] == ["m1"]
        assert [r[0] for r in store.query(LOOKUPS[2][0])] == [1]
        assert [r[0] for r in store.query(LOOKUPS[3][0])] == [2, 1]
        assert [r[0] for r in store.query(LOOKUPS[4][0])] == [2]
        for sql, index in LOOKUPS:
            plan = " ".join(str(r[3]) for r in store.query("EXPLAIN QUERY PLAN " + sql))
            assert index in plan, (sql, plan)
        # Still one active ticket per player.
        with pytest.raises(sqlite3.IntegrityError), store.transaction() as db:
            db.execute(TICKET, ("t-again", "QUEUED", 40.0, 10.0, None))
            db.execute(
                "INSERT INTO fm_ticket_players (ticket_id, player_id, position) VALUES ('t-again', 'p1', 0)"
            )
    finally:
        store.close()
