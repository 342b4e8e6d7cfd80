"""Drafts of TeamBattles answers, kept per offer until sent or discarded.

What a captain typed in an acceptance form (team, roster and bench order, maps, message,
disputed rules, the reason to refuse) is kept in memory and in the state directory, so it
survives leaving the form (Esc, a palette jump, a toast's link) and restarting the console. It
is thrown away only when the answer is sent or the captain discards it.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

from lobby.tui.store import Key

log = logging.getLogger("lobby.tui.drafts")

#: The drafts file, under the state directory.
DRAFTS_FILE = "drafts.json"


@dataclass(frozen=True)
class FormDraft:
    """What the acceptance form holds, as plain values."""

    team: str | None = None
    active: tuple[str, ...] = ()
    bench: tuple[str, ...] = ()
    #: The map preference (the index of its radio button), or None.
    map_mode: int | None = None
    maps: tuple[str, ...] = ()
    message: str = ""
    rules: dict[str, object] = field(default_factory=dict)
    #: A disputed rule typed but not added yet: its name and value, as typed.
    rule_name: str = ""
    rule_value: str = ""
    reason: str = ""

    @classmethod
    def from_json(cls, raw: object) -> FormDraft | None:
        if not isinstance(raw, dict):
            return None
        try:
            mode = raw.get("map_mode")
            rules = raw.get("rules") or {}
            team = raw.get("team")
            return cls(
                team=team if isinstance(team, str) else None,
                active=tuple(str(u) for u in raw.get("active") or ()),
                bench=tuple(str(u) for u in raw.get("bench") or ()),
                map_mode=mode if isinstance(mode, int) else None,
                maps=tuple(str(m) for m in raw.get("maps") or ()),
                message=str(raw.get("message") or ""),
                rules=dict(rules) if isinstance(rules, dict) else {},
                rule_name=str(raw.get("rule_name") or ""),
                rule_value=str(raw.get("rule_value") or ""),
                reason=str(raw.get("reason") or ""),
            )
        except (TypeError, ValueError):
            return None


#: The prefix of what was sent, in the drafts file.
SENT = "sent:"


def _name(key: Key) -> str:
    return f"{key[0].value}:{key[1]}"


class DraftBook:
    """Drafts by offer, in memory and in ``path`` (read on first use, written on each change)."""

    def __init__(self, path: Path | None) -> None:
        self._path = path
        self._drafts: dict[str, FormDraft] | None = None

    def _all(self) -> dict[str, FormDraft]:
        if self._drafts is None:
            self._drafts = {}
            if self._path is not None:
                try:
                    raw = json.loads(self._path.read_text(encoding="utf-8"))
                except FileNotFoundError:
                    raw = {}
                except (OSError, ValueError) as exc:
                    log.warning("drafts not read from %s: %s", self._path, exc)
                    raw = {}
                if isinstance(raw, dict):
                    for name, value in raw.items():
                        draft = FormDraft.from_json(value)
                        if draft is not None:
                            self._drafts[str(name)] = draft
        return self._drafts

    def get(self, key: Key) -> FormDraft | None:
        return self._all().get(_name(key))

    def put(self, key: Key, draft: FormDraft) -> None:
        drafts = self._all()
        if drafts.get(_name(key)) == draft:
            return
        drafts[_name(key)] = draft
        self._write()

    def sent(self, key: Key, draft: FormDraft) -> None:
        """``draft`` went out: no longer a draft, kept as what was sent (shown read-only)."""
        drafts = self._all()
        drafts.pop(_name(key), None)
        drafts[SENT + _name(key)] = draft
        self._write()

    def what_was_sent(self, key: Key) -> FormDraft | None:
        return self._all().get(SENT + _name(key))

    def discard(self, key: Key) -> None:
        if self._all().pop(_name(key), None) is not None:
            self._write()

    def _write(self) -> None:
        if self._path is None or self._drafts is None:
            return
        try:
            self._path.parent.mkdir(parents=True, exist_ok=True)
            partial = self._path.with_suffix(".partial")
            partial.write_text(json.dumps({k: asdict(v) for k, v in self._drafts.items()}), encoding="utf-8")
            os.replace(partial, self._path)
        except OSError as exc:  # kept in memory still
            log.warning("drafts not written to %s: %s", self._path, exc)
