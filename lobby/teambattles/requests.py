"""My match requests: the acceptances this user submitted, kept across restarts.

TeamBattles has no route that lists a match's acceptances and none that withdraws one, so the
acceptanceId the service returns is remembered here, with the match, the team, the body sent
and the time, in a small SQLite file in the user state directory (each write one transaction,
so a crash never leaves half a record). Records are kept per profile, so requests made against
the emulator never mix with real ones.

Each record carries a status derived from what the service shows (:func:`derive_status`):

- ``PENDING``: the match is still open and nothing says otherwise;
- ``APPROVED``: the match's ``acceptedTeam`` is this request's team;
- ``DECLINED``: the creator declined it (known only from the emulator's event stream: the real
  service announces declines to nobody but the creator);
- ``SUPERSEDED``: the creator approved another team;
- ``CANCELLED``: the match was cancelled (or started without an opponent).
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterator, Mapping
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from lobby import paths
from lobby.teambattles.vocab import AcceptanceStatus
from lobby.core.answers import MatchStatus
from lobby.teambattles.wire import MatchDetail

FILE_NAME = "teambattles-requests.sqlite3"

#: Statuses that nothing the service shows later can change.
SETTLED = frozenset({AcceptanceStatus.DECLINED, AcceptanceStatus.SUPERSEDED})

_SCHEMA = """
CREATE TABLE IF NOT EXISTS acceptances (
    profile TEXT NOT NULL,
    acceptance_id TEXT NOT NULL,
    match_id TEXT NOT NULL,
    team_id TEXT NOT NULL,
    payload TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    submitted_at REAL NOT NULL,
    status TEXT NOT NULL,
    note TEXT,
    updated_at REAL NOT NULL,
    PRIMARY KEY (profile, acceptance_id)
);
CREATE INDEX IF NOT EXISTS acceptances_match ON acceptances (profile, match_id);
"""


@dataclass(frozen=True, slots=True)
class AcceptanceRecord:
    acceptance_id: str
    match_id: str
    team_id: str
    #: The request body as sent (wire names).
    payload: Mapping[str, Any]
    submitted_at: datetime
    idempotency_key: str
    status: AcceptanceStatus = AcceptanceStatus.PENDING
    #: Why the status is what it is, in words ("Match cancelled: ...").
    note: str | None = None
    updated_at: datetime | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "acceptanceId": self.acceptance_id,
            "matchId": self.match_id,
            "teamId": self.team_id,
            "status": self.status.value.lower(),
            "note": self.note,
            "submittedAt": self.submitted_at.isoformat(),
            "updatedAt": self.updated_at.isoformat() if self.updated_at else None,
            "payload": dict(self.payload),
        }


def derive_status(
    team_id: str, known: AcceptanceStatus, match: MatchDetail
) -> tuple[AcceptanceStatus, str | None]:
    """The status of a request of ``team_id`` given the match as the service shows it now.

    ``known`` is the status recorded so far: a decline or a superseding approval is final.
    """
    if known in SETTLED:
        return known, None
    accepted = match.accepted_team
    if match.status == MatchStatus.CANCELLED:
        return AcceptanceStatus.CANCELLED, "The match was cancelled."
    if accepted is not None and accepted.id == team_id:
        return AcceptanceStatus.APPROVED, f"Approved: the match is {match.status.value}."
    if accepted is not None:
        return AcceptanceStatus.SUPERSEDED, f"The creator chose {accepted.name}."
    if match.status == MatchStatus.PENDING:
        return AcceptanceStatus.PENDING, None
    return known, None


def _ts(value: datetime) -> float:
    return value.timestamp()


def _dt(value: float | None) -> datetime | None:
    return None if value is None else datetime.fromtimestamp(value, UTC)


class RequestStore:
    """The acceptances of one profile, in ``<state dir>/teambattles-requests.sqlite3``."""

    def __init__(self, profile: str = "default", path: Path | None = None) -> None:
        self.profile = profile
        self.path = path or paths.state_dir() / FILE_NAME
        self._ready = False

    def __repr__(self) -> str:
        return f"RequestStore({str(self.path)!r}, profile={self.profile!r})"

    @contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        if not self._ready:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            fresh = not self.path.exists()
            with closing(sqlite3.connect(self.path, timeout=10)) as db:
                db.executescript(_SCHEMA)
            if fresh and os.name == "posix":
                os.chmod(self.path, 0o600)
            self._ready = True
        with closing(sqlite3.connect(self.path, timeout=10, isolation_level=None)) as db:
            db.execute("PRAGMA busy_timeout=10000")
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

    def add(self, record: AcceptanceRecord) -> AcceptanceRecord:
        """Remember a submitted request. The same acceptanceId twice (a replayed submission) is
        kept once; the first record wins."""
        with self._db() as db:
            db.execute(
                "INSERT OR IGNORE INTO acceptances (profile, acceptance_id, match_id, team_id,"
                " payload, idempotency_key, submitted_at, status, note, updated_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    self.profile,
                    record.acceptance_id,
                    record.match_id,
                    record.team_id,
                    json.dumps(dict(record.payload), separators=(",", ":"), sort_keys=True),
                    record.idempotency_key,
                    _ts(record.submitted_at),
                    record.status.value,
                    record.note,
                    _ts(record.updated_at or record.submitted_at),
                ),
            )
        found = self.get(record.acceptance_id)
        assert found is not None
        return found

    def _rows(self, where: str = "", params: tuple[Any, ...] = ()) -> list[AcceptanceRecord]:
        with self._db() as db:
            rows = db.execute(
                "SELECT acceptance_id, match_id, team_id, payload, submitted_at, idempotency_key,"
                " status, note, updated_at FROM acceptances WHERE profile = ?"
                + where
                + " ORDER BY submitted_at DESC, acceptance_id",
                (self.profile, *params),
            ).fetchall()
        return [
            AcceptanceRecord(
                acceptance_id=r[0],
                match_id=r[1],
                team_id=r[2],
                payload=json.loads(r[3]),
                submitted_at=_dt(r[4]) or datetime.now(UTC),
                idempotency_key=r[5],
                status=AcceptanceStatus(r[6]),
                note=r[7],
                updated_at=_dt(r[8]),
            )
            for r in rows
        ]

    def all(self) -> list[AcceptanceRecord]:
        """Every request of this profile, newest first."""
        return self._rows()

    def get(self, acceptance_id: str) -> AcceptanceRecord | None:
        found = self._rows(" AND acceptance_id = ?", (acceptance_id,))
        return found[0] if found else None

    def for_match(self, match_id: str) -> list[AcceptanceRecord]:
        return self._rows(" AND match_id = ?", (match_id,))

    def pending_team_ids(self, match_id: str) -> frozenset[str]:
        """Teams with a request of mine still pending on ``match_id``."""
        return frozenset(
            r.team_id for r in self.for_match(match_id) if r.status == AcceptanceStatus.PENDING
        )

    def set_status(
        self,
        acceptance_id: str,
        status: AcceptanceStatus,
        note: str | None = None,
        *,
        at: datetime | None = None,
    ) -> bool:
        """Record a new status; True if it changed. A settled status is never overwritten."""
        when = _ts(at or datetime.now(UTC))
        with self._db() as db:
            row = db.execute(
                "SELECT status, note FROM acceptances WHERE profile = ? AND acceptance_id = ?",
                (self.profile, acceptance_id),
            ).fetchone()
            if row is None:
                return False
            old = AcceptanceStatus(row[0])
            if old in SETTLED and status != old:
                return False
            if old == status and (note is None or note == row[1]):
                return False
            db.execute(
                "UPDATE acceptances SET status = ?, note = COALESCE(?, note), updated_at = ?"
                " WHERE profile = ? AND acceptance_id = ?",
                (status.value, note, when, self.profile, acceptance_id),
            )
        return True
