"""Idempotency-Key records: per (API key, route, idempotency key), kept 24 hours in SQLite.

The lookup, the operation and the record are one store transaction, and the operation runs
without yielding to the event loop, so two concurrent requests with one key execute once: the
second finds the first one's record. Only successful answers are recorded; a refused request
changed nothing, so repeating it is harmless and simply answers again.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass

from lobby.emulator.store import Store
from lobby.emulator.teambattles.errors import ApiError, invalid
from lobby.teambattles.vocab import ErrorCode as E

TTL_SECONDS = 24 * 3600
HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
_KEY_PATTERN = re.compile(r"^[\x21-\x7e]{1,255}$")


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    body: bytes
    headers: dict[str, str]


def check_key(value: str) -> str:
    if not _KEY_PATTERN.match(value):
        raise invalid(f"{HEADER} must be 1-255 visible ASCII characters.")
    return value


def fingerprint(raw: bytes) -> str:
    """Equal JSON bodies match even when their keys or spacing differ."""
    try:
        canonical = json.dumps(
            json.loads(raw.decode("utf-8")), sort_keys=True, separators=(",", ":")
        ).encode()
    except (UnicodeDecodeError, ValueError, RecursionError):
        canonical = raw
    return hashlib.sha256(canonical).hexdigest()


def run_once(
    store: Store,
    *,
    key_hash: str,
    route: str,
    idempotency_key: str,
    raw_body: bytes,
    now: float,
    execute: Callable[[], Answer],
) -> Answer:
    """Replay the recorded answer, refuse a different body, or execute and record."""
    fp = fingerprint(raw_body)
    with store.transaction() as db:
        row = db.execute(
            "SELECT fingerprint, status, body, headers, created_at FROM tb_idempotency"
            " WHERE key_hash = ? AND route = ? AND idempotency_key = ?",
            (key_hash, route, idempotency_key),
        ).fetchone()
        if row is not None and row["created_at"] > now - TTL_SECONDS:
            if row["fingerprint"] != fp:
                raise ApiError(
                    E.IDEMPOTENCY_KEY_CONFLICT,
                    f"This {HEADER} was used with a different body on this route.",
                )
            headers = json.loads(row["headers"])
            headers[REPLAYED_HEADER] = "true"
            return Answer(row["status"], bytes(row["body"]), headers)
        if row is not None:
            db.execute(
                "DELETE FROM tb_idempotency"
                " WHERE key_hash = ? AND route = ? AND idempotency_key = ?",
                (key_hash, route, idempotency_key),
            )
        answer = execute()
        if 200 <= answer.status < 300:
            db.execute(
                "INSERT INTO tb_idempotency (key_hash, route, idempotency_key, fingerprint, status,"
                " body, headers, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    key_hash,
                    route,
                    idempotency_key,
                    fp,
                    answer.status,
                    answer.body,
                    json.dumps(answer.headers),
                    now,
                ),
            )
        return answer


def purge(store: Store, now: float, ttl: float) -> None:
    """Forget the answers recorded ``ttl`` seconds ago or earlier."""
    with store.transaction() as db:
        db.execute("DELETE FROM tb_idempotency WHERE created_at <= ?", (now - ttl,))
