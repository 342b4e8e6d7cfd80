"""The TeamBattles tables, and seeding a fresh database from the scenario (once)."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Iterable, Sequence
from typing import Any

from lobby.emulator.store import Store
from lobby.emulator.teambattles.scenario import GameSpec, MemberSpec, TeamBattlesScenario, TeamSpec
from lobby.core.answers import BenchEntry, TeamRole

COMPONENT = "teambattles"
SEEDED_META = "teambattles.seeded"

SCHEMA = [
    """
    CREATE TABLE tb_counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
    CREATE TABLE tb_games (
        id TEXT PRIMARY KEY,
        convex_id TEXT NOT NULL UNIQUE,
        position INTEGER NOT NULL,
        doc TEXT NOT NULL
    );
    CREATE TABLE tb_users (
        id TEXT PRIMARY KEY,
        username TEXT NOT NULL UNIQUE COLLATE NOCASE,
        name TEXT NOT NULL,
        visibility TEXT NOT NULL,
        verified INTEGER NOT NULL DEFAULT 0,
        created_at REAL NOT NULL
    );
    CREATE TABLE tb_organizations (
        id TEXT PRIMARY KEY,
        slug TEXT NOT NULL UNIQUE,
        name TEXT NOT NULL,
        tag TEXT,
        owner_id TEXT NOT NULL REFERENCES tb_users (id),
        visibility TEXT NOT NULL
    );
    CREATE TABLE tb_teams (
        id TEXT PRIMARY KEY,
        slug TEXT NOT NULL UNIQUE,
        name TEXT NOT NULL,
        tag TEXT NOT NULL,
        game_id TEXT NOT NULL,
        organization_id TEXT REFERENCES tb_organizations (id),
        visibility TEXT NOT NULL,
        description TEXT,
        competitive_banned INTEGER NOT NULL DEFAULT 0,
        active INTEGER NOT NULL DEFAULT 1,
        created_at REAL NOT NULL
    );
    CREATE TABLE tb_members (
        id TEXT PRIMARY KEY,
        team_id TEXT NOT NULL REFERENCES tb_teams (id),
        user_id TEXT NOT NULL REFERENCES tb_users (id),
        role TEXT NOT NULL,
        joined_at REAL NOT NULL,
        active INTEGER NOT NULL DEFAULT 1,
        UNIQUE (team_id, user_id)
    );
    CREATE INDEX tb_members_user ON tb_members (user_id);
    CREATE TABLE tb_keys (
        hash TEXT PRIMARY KEY,
        key_id TEXT NOT NULL UNIQUE,
        label TEXT NOT NULL,
        owner_id TEXT NOT NULL REFERENCES tb_users (id),
        kind TEXT NOT NULL,
        plan TEXT NOT NULL,
        scopes TEXT NOT NULL,
        expires_at REAL,
        revoked_at REAL
    );
    CREATE TABLE tb_matches (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        id TEXT NOT NULL UNIQUE,
        status TEXT NOT NULL,
        publish_status TEXT NOT NULL,
        game_id TEXT NOT NULL,
        game_mode TEXT NOT NULL,
        match_type TEXT,
        map_selection_type TEXT,
        map_preference_mode TEXT,
        platform TEXT,
        input_device TEXT,
        region TEXT,
        team_size INTEGER NOT NULL,
        best_of INTEGER NOT NULL,
        creator_team_id TEXT NOT NULL REFERENCES tb_teams (id),
        creator_user_id TEXT,
        accepted_team_id TEXT REFERENCES tb_teams (id),
        challenged_team_id TEXT REFERENCES tb_teams (id),
        selected_maps TEXT NOT NULL DEFAULT '[]',
        selected_objectives TEXT NOT NULL DEFAULT '[]',
        wager_amount REAL,
        notes TEXT,
        league_id TEXT,
        league_season_id TEXT,
        winner_team_id TEXT,
        cancel_reason TEXT,
        scheduled_at REAL,
        created_at REAL NOT NULL,
        started_at REAL,
        completed_at REAL,
        updated_at REAL NOT NULL
    );
    CREATE INDEX tb_matches_open ON tb_matches (status, publish_status, scheduled_at);
    CREATE TABLE tb_match_players (
        id TEXT PRIMARY KEY,
        match_id TEXT NOT NULL REFERENCES tb_matches (id),
        team_id TEXT NOT NULL REFERENCES tb_teams (id),
        user_id TEXT NOT NULL REFERENCES tb_users (id),
        roster_type TEXT NOT NULL,
        priority REAL,
        position INTEGER NOT NULL,
        UNIQUE (match_id, user_id)
    );
    CREATE TABLE tb_acceptances (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        id TEXT NOT NULL UNIQUE,
        match_id TEXT NOT NULL REFERENCES tb_matches (id),
        team_id TEXT NOT NULL REFERENCES tb_teams (id),
        submitted_by TEXT NOT NULL REFERENCES tb_users (id),
        status TEXT NOT NULL,
        active_roster TEXT NOT NULL,
        bench_roster TEXT NOT NULL,
        map_preference_mode TEXT,
        selected_maps TEXT NOT NULL,
        message TEXT,
        disputed_rules TEXT NOT NULL,
        response_message TEXT,
        created_at REAL NOT NULL,
        decided_at REAL
    );
    CREATE UNIQUE INDEX tb_acceptances_one_pending
        ON tb_acceptances (match_id, team_id) WHERE status = 'PENDING';
    CREATE INDEX tb_acceptances_match ON tb_acceptances (match_id, status);
    CREATE TABLE tb_idempotency (
        key_hash TEXT NOT NULL,
        route TEXT NOT NULL,
        idempotency_key TEXT NOT NULL,
        fingerprint TEXT NOT NULL,
        status INTEGER NOT NULL,
        body BLOB NOT NULL,
        headers TEXT NOT NULL,
        created_at REAL NOT NULL,
        PRIMARY KEY (key_hash, route, idempotency_key)
    );
    CREATE INDEX tb_idempotency_age ON tb_idempotency (created_at)
    """
]


def hash_key(value: str) -> str:
    """How a key is stored and looked up: its SHA-256, never the key itself."""
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def next_id(db: sqlite3.Connection, name: str) -> int:
    """The next number of a named sequence (inside the caller's transaction)."""
    db.execute(
        "INSERT INTO tb_counters (name, value) VALUES (?, 1)"
        " ON CONFLICT(name) DO UPDATE SET value = value + 1",
        (name,),
    )
    row = db.execute("SELECT value FROM tb_counters WHERE name = ?", (name,)).fetchone()
    return int(row[0])


def migrate(store: Store) -> None:
    store.migrate(COMPONENT, SCHEMA)


def game_doc(game: GameSpec) -> str:
    return game.model_dump_json()


def seed(store: Store, scenario: TeamBattlesScenario, now: float) -> bool:
    """Fill a fresh database from the scenario; a database seeded before is left as it is."""
    with store.transaction() as db:
        if db.execute("SELECT value FROM meta WHERE key = ?", (SEEDED_META,)).fetchone():
            return False
        for position, listed in enumerate(scenario.games):
            db.execute(
                "INSERT INTO tb_games (id, convex_id, position, doc) VALUES (?, ?, ?, ?)",
                (listed.id, listed.convex_id, position, game_doc(listed)),
            )
        for i, user in enumerate(scenario.users):
            db.execute(
                "INSERT INTO tb_users (id, username, name, visibility, verified, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (
                    user.id,
                    user.username,
                    user.name,
                    user.visibility,
                    int(user.verified),
                    now - 86400 * (400 - i),
                ),
            )
        for org in scenario.organizations:
            db.execute(
                "INSERT INTO tb_organizations (id, slug, name, tag, owner_id, visibility)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (org.id, org.slug, org.name, org.tag, org.owner, org.visibility),
            )
        for i, team in enumerate(scenario.teams):
            game = scenario.game(team.game)
            assert game is not None
            db.execute(
                "INSERT INTO tb_teams (id, slug, name, tag, game_id, organization_id, visibility,"
                " description, competitive_banned, created_at) VALUES (?,?,?,?,?,?,?,?,?,?)",
                (
                    team.id,
                    team.slug,
                    team.name,
                    team.tag,
                    game.convex_id,
                    team.organization,
                    team.visibility,
                    team.description,
                    int(team.competitive_banned),
                    now - 86400 * (200 - i),
                ),
            )
            for j, member in enumerate(team.members):
                db.execute(
                    "INSERT INTO tb_members (id, team_id, user_id, role, joined_at)"
                    " VALUES (?, ?, ?, ?, ?)",
                    (
                        f"mbr_{next_id(db, 'member'):05d}",
                        team.id,
                        member.user,
                        TeamRole(member.role).value,
                        now - 86400 * (150 - i) + 3600 * j,
                    ),
                )
        for i, key in enumerate(scenario.keys):
            expires = None if key.expires_in_days is None else now + key.expires_in_days * 86400
            db.execute(
                "INSERT INTO tb_keys (hash, key_id, label, owner_id, kind, plan, scopes,"
                " expires_at, revoked_at) VALUES (?,?,?,?,?,?,?,?,?)",
                (
                    hash_key(key.key),
                    f"key_{i + 1:03d}",
                    key.label,
                    key.owner,
                    key.kind,
                    key.plan,
                    json.dumps(key.scopes, sort_keys=True),
                    expires,
                    now - 3600 if key.revoked else None,
                ),
            )
        teams = {t.id: t for t in scenario.teams}
        for i, spec in enumerate(scenario.matches):
            team = teams[spec.creator_team]
            game = scenario.game(team.game)
            assert game is not None
            size = spec.team_size or game.default_team_size
            scheduled = None
            if spec.starts_in_minutes is not None:
                scheduled = now + spec.starts_in_minutes * 60
            created = now - 60 * (len(scenario.matches) - i)
            db.execute(
                "INSERT INTO tb_matches (id, status, publish_status, game_id, game_mode,"
                " match_type, map_selection_type, map_preference_mode, platform, input_device,"
                " region, team_size, best_of, creator_team_id, creator_user_id,"
                " accepted_team_id, challenged_team_id, selected_maps, notes, scheduled_at,"
                " created_at, started_at, updated_at)"
                " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (
                    spec.id,
                    spec.status,
                    "PUBLISHED" if spec.published else "DRAFT",
                    game.convex_id,
                    spec.game_mode,
                    spec.match_type,
                    "FLEX",
                    "PREFERRED",
                    spec.platform,
                    "ALL",
                    spec.region,
                    size,
                    spec.best_of,
                    team.id,
                    _captain(team),
                    spec.accepted_team,
                    spec.challenged_team,
                    json.dumps(spec.selected_maps),
                    spec.notes,
                    scheduled,
                    created,
                    scheduled if spec.status == "IN_PROGRESS" else None,
                    created,
                ),
            )
            _seed_players(db, spec.id, team.id, [m.user for m in _by_role(team)], size)
            if spec.accepted_team is not None:
                other = teams[spec.accepted_team]
                _seed_players(db, spec.id, other.id, [m.user for m in _by_role(other)], size)
        db.execute("INSERT INTO meta (key, value) VALUES (?, ?)", (SEEDED_META, json.dumps(now)))
    return True


def _by_role(team: TeamSpec) -> list[MemberSpec]:
    order = {TeamRole.CAPTAIN: 0, TeamRole.CO_CAPTAIN: 1, TeamRole.MEMBER: 2}
    return sorted(team.members, key=lambda m: order[TeamRole(m.role)])


def _captain(team: TeamSpec) -> str:
    return next(m.user for m in team.members if TeamRole(m.role) == TeamRole.CAPTAIN)


def _seed_players(
    db: sqlite3.Connection, match_id: str, team_id: str, users: list[str], size: int
) -> None:
    for position, user in enumerate(users):
        active = position < size
        add_player(
            db,
            match_id,
            team_id,
            user,
            "ACTIVE" if active else "BENCH",
            None if active else float(position - size + 1),
        )


def add_player(
    db: sqlite3.Connection,
    match_id: str,
    team_id: str,
    user_id: str,
    roster_type: str,
    priority: float | None,
) -> None:
    position = db.execute(
        "SELECT COUNT(*) FROM tb_match_players WHERE match_id = ?", (match_id,)
    ).fetchone()[0]
    db.execute(
        "INSERT INTO tb_match_players (id, match_id, team_id, user_id, roster_type, priority,"
        " position) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (
            f"mpl_{next_id(db, 'player'):06d}",
            match_id,
            team_id,
            user_id,
            roster_type,
            priority,
            position,
        ),
    )


def add_roster(
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


def bench_from(entries: Sequence[BenchEntry]) -> list[dict[str, Any]]:
    return [{"id": b.user_id, "priority": b.priority} for b in entries]
