"""My match requests: the acceptances this user submitted, kept across restarts.

TeamBattles has no route that lists a match's acceptances and none that withdraws one, so the
acceptanceId the service returns is remembered here, with the match, the team, the body sent
and the time, in a small SQLite file in the user state directory (each write one transaction,
so a crash never leaves half a record). Records are kept per profile, so requests made against
the emulator never mix with real ones. The file is in WAL mode: reading it never waits for a
writer and never blocks one. The running backend keeps the records in memory
(:mod:`lobby.teambattles.request_book`) and writes here from a worker thread.

Each record carries a status derived from what the service shows (:func:`derive_status`):

- ``PENDING``: the match is still open and nothing says otherwise;
- ``APPROVED``: the match's ``acceptedTeam`` is this request's team;
- ``DECLINED``: the creator declined it (known only from the emulator's event stream: the real
  service announces declines to nobody but the creator);
- ``SUPERSEDED``: the creator approved another team;
- ``CANCELLED``: the match was cancelled (or started without an opponent).
"""

from __future__ import annotations

import dataclasses
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


def updated(
    record: AcceptanceRecord, status: AcceptanceStatus, note: str | None, at: datetime
) -> AcceptanceRecord | None:
    """``record`` with a new status (and note, when given), or None when nothing changes: a
    settled status is never overwritten, and the same status without a new note is no news."""
    if record.status in SETTLED and status != record.status:
        return None
    if record.status == status and (note is None or note == record.note):
        return None
    return dataclasses.replace(
        record, status=status, note=record.note if note is None else note, updated_at=at
    )


#: What the emulator's acceptance events say became of a request, in words.
_EVENT_NOTES = {
    AcceptanceStatus.DECLINED: "The creator declined it.",
    AcceptanceStatus.SUPERSEDED: "The creator approved another team.",
    AcceptanceStatus.CANCELLED: "The match was cancelled.",
    AcceptanceStatus.APPROVED: "Approved.",
}


def status_from_event(acceptance: object) -> tuple[str, AcceptanceStatus, str | None] | None:
    """``(acceptance id, status, note)`` from the ``acceptance`` of one of the emulator's
    acceptance events, or None when it says nothing lobby understands."""
    if not isinstance(acceptance, Mapping) or not isinstance(acceptance.get("id"), str):
        return None
    try:
        status = AcceptanceStatus(str(acceptance.get("status", "")).upper())
    except ValueError:
        return None
    note = _EVENT_NOTES.get(status)
    reply = acceptance.get("responseMessage")
    if isinstance(reply, str) and reply and note:
        note = f"{note} Reply: {reply}"
    return acceptance["id"], status, note


def _ts(value: datetime) -> float:
    return value.timestamp()


def _dt(value: float | None) -> datetime | None:
    return None if value is None else datetime.fromtimestamp(value, UTC)


_SELECT = (
    "SELECT acceptance_id, match_id, team_id, payload, submitted_at, idempotency_key, status,"
    " note, updated_at FROM acceptances WHERE profile = ?"
)


def _record(row: tuple[Any, ...]) -> AcceptanceRecord:
    return AcceptanceRecord(
        acceptance_id=row[0],
        match_id=row[1],
        team_id=row[2],
        payload=json.loads(row[3]),
        submitted_at=_dt(row[4]) or datetime.now(UTC),
        idempotency_key=row[5],
        status=AcceptanceStatus(row[6]),
        note=row[7],
        updated_at=_dt(row[8]),
    )


class RequestStore:
    """The acceptances of one profile, in ``<state dir>/teambattles-requests.sqlite3``."""

    def __init__(self, profile: str = "default", path: Path | None = None) -> None:
        self.profile = profile
        self.path = path or paths.state_dir() / FILE_NAME
        self._ready = False

    def __repr__(self) -> str:
        return f"RequestStore({str(self.path)!r}, profile={self.profile!r})"

    def _ensure(self) -> None:
        """Create the file (owner-only), its tables and WAL mode, once."""
        if self._ready:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fresh = not self.path.exists()
        with closing(sqlite3.connect(self.path, timeout=10)) as db:
            db.execute("PRAGMA journal_mode=WAL")
            db.executescript(_SCHEMA)
        if fresh and os.name == "posix":
            os.chmod(self.path, 0o600)
        self._ready = True

    @contextmanager
    def _connection(self) -> Iterator[sqlite3.Connection]:
        self._ensure()
        with closing(sqlite3.connect(self.path, timeout=10, isolation_level=None)) as db:
            db.execute("PRAGMA busy_timeout=10000")
            yield db

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction, taking the write lock at once."""
        with self._connection() as db:
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
        with self._write() as db:
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
        """Records read in one statement: a snapshot of the WAL file, without any lock that
        could keep a writer waiting."""
        with self._connection() as db:
            rows = db.execute(
                _SELECT + where + " ORDER BY submitted_at DESC, acceptance_id",
                (self.profile, *params),
            ).fetchall()
        return [_record(r) for r in rows]

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
        with self._write() as db:
            row = db.execute(
                _SELECT + " AND acceptance_id = ?", (self.profile, acceptance_id)
            ).fetchone()
            new = None if row is None else updated(_record(row), status, note, at or datetime.now(UTC))
            if new is None:
                return False
            db.execute(
                "UPDATE acceptances SET status = ?, note = ?, updated_at = ?"
                " WHERE profile = ? AND acceptance_id = ?",
                (new.status.value, new.note, _ts(new.updated_at or new.submitted_at), self.profile, acceptance_id),
            )
        return True
