"""The FlexMatch tables (all prefixed ``fm_``), as ordered migrations for :meth:`Store.migrate`.

- ``fm_rule_sets`` / ``fm_configurations``: the resources, configuration settings kept as the
  wire members (JSON) so a Describe answers with exactly what was set;
- ``fm_tickets``: one row per ticket, its players (JSON, with Team once matched), status, and
  the times the scheduler acts on (``queued_until``, ``request_deadline``);
- ``fm_ticket_players``: one row per player of a ticket with the answer of the current
  acceptance round; a partial unique index makes "one active ticket per player" a database
  rule;
- ``fm_matches``: proposed matches, with the persisted acceptance ``deadline`` (PROPOSED) and
  the placement ``due`` time (PLACING). Both survive a restart, so a deadline that passed while
  the emulator was down resolves on its first tick.
"""

from __future__ import annotations

COMPONENT = "flexmatch"

MIGRATIONS = [
    """
    CREATE TABLE fm_rule_sets (
        name TEXT PRIMARY KEY,
        body TEXT NOT NULL,
        creation_time REAL NOT NULL
    );
    CREATE TABLE fm_configurations (
        name TEXT PRIMARY KEY,
        rule_set_name TEXT NOT NULL,
        settings TEXT NOT NULL,
        creation_time REAL NOT NULL,
        wait_estimate REAL
    );
    CREATE INDEX fm_configurations_rule_set ON fm_configurations (rule_set_name);
    CREATE TABLE fm_matches (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        match_id TEXT NOT NULL UNIQUE,
        config_name TEXT NOT NULL,
        status TEXT NOT NULL,
        proposed_at REAL NOT NULL,
        acceptance_required INTEGER NOT NULL,
        deadline REAL,
        due REAL,
        tickets TEXT NOT NULL
    );
    CREATE INDEX fm_matches_deadline ON fm_matches (status, deadline);
    CREATE INDEX fm_matches_due ON fm_matches (status, due);
    CREATE TABLE fm_tickets (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        ticket_id TEXT NOT NULL UNIQUE,
        config_name TEXT NOT NULL,
        status TEXT NOT NULL,
        status_reason TEXT,
        status_message TEXT,
        start_time REAL NOT NULL,
        end_time REAL,
        players TEXT NOT NULL,
        match_id TEXT,
        request_deadline REAL NOT NULL,
        queued_until REAL,
        searching_since REAL,
        rounds INTEGER NOT NULL DEFAULT 0,
        estimate INTEGER,
        connection TEXT
    );
    CREATE INDEX fm_tickets_searching ON fm_tickets (status, config_name, searching_since, seq);
    CREATE INDEX fm_tickets_queued ON fm_tickets (status, queued_until);
    CREATE INDEX fm_tickets_deadline ON fm_tickets (status, request_deadline);
    CREATE INDEX fm_tickets_match ON fm_tickets (match_id);
    CREATE INDEX fm_tickets_config ON fm_tickets (config_name, status);
    CREATE TABLE fm_ticket_players (
        ticket_id TEXT NOT NULL REFERENCES fm_tickets (ticket_id) ON DELETE CASCADE,
        player_id TEXT NOT NULL,
        position INTEGER NOT NULL,
        answer TEXT,
        active INTEGER NOT NULL DEFAULT 1,
        PRIMARY KEY (ticket_id, player_id)
    );
    CREATE UNIQUE INDEX fm_ticket_players_active ON fm_ticket_players (player_id) WHERE active = 1;
    CREATE INDEX fm_ticket_players_player ON fm_ticket_players (player_id)
    """,
    # Indexes that follow a ticket's or match's status only hold the rows in the statuses their
    # readers ask for, so a match completing (every ticket leaving REQUIRES_ACCEPTANCE for a
    # status nobody looks up by) rewrites no index entry at all.
    """
    DROP INDEX fm_tickets_searching;
    CREATE INDEX fm_tickets_searching ON fm_tickets (status, config_name, searching_since, seq)
        WHERE status = 'SEARCHING';
    DROP INDEX fm_tickets_queued;
    CREATE INDEX fm_tickets_queued ON fm_tickets (status, queued_until) WHERE status = 'QUEUED';
    DROP INDEX fm_tickets_deadline;
    CREATE INDEX fm_tickets_deadline ON fm_tickets (status, request_deadline)
        WHERE status IN ('QUEUED', 'SEARCHING');
    DROP INDEX fm_tickets_config;
    CREATE INDEX fm_tickets_config ON fm_tickets (config_name);
    DROP INDEX fm_matches_deadline;
    CREATE INDEX fm_matches_deadline ON fm_matches (status, deadline) WHERE status = 'PROPOSED';
    DROP INDEX fm_matches_due;
    CREATE INDEX fm_matches_due ON fm_matches (status, due) WHERE status = 'PLACING'
    """,
]
