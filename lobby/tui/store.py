"""The app's one state store: every offer the backends reported, kept by id.

Backends report a full listing (on connect and on reconnect) and then changes. The store applies
both by (kind, id), remembers which offers the captain answered, and sorts offers into the three
sections of the home screen. It is plain Python, so it is tested without a terminal.

The last-known offers (:class:`LastKnown`, a file under the state directory) are shown at
start-up before any backend answers, each marked as refreshing: a backend's first listing
confirms the ones it names and drops the rest.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from lobby.core.backend import MyRequest
from lobby.core.clock import Clock
from lobby.core.offers import Change, Offer, OfferClosed, OfferKind, OfferUpdated, offer_from_json, offer_json

Key = tuple[OfferKind, str]

log = logging.getLogger("lobby.tui.store")

#: FlexMatch statuses: the one that asks for an answer.
REQUIRES_ACCEPTANCE = "REQUIRES_ACCEPTANCE"

#: Offer facts the "Open matches" filters look at, with their labels.
FILTER_FACTS: dict[str, str] = {
    "game": "Game",
    "platform": "Platform",
    "region": "Region",
    "matchType": "Match type",
}


#: The last-known offers, under the state directory (see :class:`LastKnown`).
LAST_KNOWN_FILE = "offers.json"

#: Why an offer that a full listing no longer names is closed.
NO_LONGER_OFFERED = "No longer offered."

#: Request statuses that are a decision on my request (worth an alert).
DECIDED = frozenset({"APPROVED", "DECLINED", "REJECTED", "CANCELLED", "EXPIRED", "SUPERSEDED"})


def key_of(offer: Offer | OfferClosed) -> Key:
    return (offer.kind, offer.id)


def request_words(request: MyRequest) -> str:
    """Where a request I sent stands, in words for "My requests"."""
    status = request.status.lower()
    if status == "pending" and not request.note:
        return "pending: waiting for the creator's answer"
    return f"{status}: {request.note}" if request.note else status


@dataclass
class Entry:
    """What the store knows about one offer."""

    offer: Offer
    backend: str
    first_seen: datetime
    #: The captain sent an answer (accept or reject) from this app, or the backend says so.
    answered: bool = False
    #: What the service recorded for that answer, in words.
    answer_note: str | None = None
    #: The offer's status when the answer was sent: until the listing says otherwise, the
    #: answer's note is where the offer stands.
    status_when_answered: str | None = None
    #: Set once the offer can no longer be answered; the offer is kept for context.
    closed: OfferClosed | None = None
    #: Remaining time when first seen: the scale of the countdown bar.
    window: float | None = None
    #: The request the backend remembers sending for this offer, if any: the newest of them.
    request: MyRequest | None = None
    #: Every request sent for this offer, by acceptance id, oldest first.
    requests: dict[str, MyRequest] = field(default_factory=dict)
    #: The clock of the service that made the offer (this machine's corrected by the skew the
    #: backend measured): every countdown of this offer is its deadline minus this clock's now.
    clock: Clock = field(kw_only=True)
    #: FlexMatch: the players of the ticket answered for so far, and how ("accepted" or
    #: "rejected"); the others stay answerable until the deadline.
    player_answers: dict[str, str] = field(default_factory=dict)
    #: Not listed yet by its connected backend: shown from the last-known offers of an
    #: earlier session, or from the early listing (see :attr:`confirmed`).
    refreshing: bool = False
    #: Listed by the service in the early listing of start-up (:meth:`OfferStore.confirm`),
    #: its backend not connected yet: live, counted down by the service's time, not marked.
    confirmed: bool = False

    @property
    def unconfirmed(self) -> bool:
        """Shown from the last-known offers, and no listing has confirmed it yet."""
        return self.refreshing and not self.confirmed

    @property
    def unanswered_players(self) -> tuple[str, ...]:
        return tuple(p for p in self.offer.players if p not in self.player_answers)

    @property
    def key(self) -> Key:
        return key_of(self.offer)

    @property
    def is_open(self) -> bool:
        return self.closed is None

    @property
    def awaiting(self) -> bool:
        """Asks the captain for an answer right now."""
        if self.closed is not None or self.answered:
            return False
        if self.offer.kind is OfferKind.FLEXMATCH_TICKET:
            return self.offer.status == REQUIRES_ACCEPTANCE
        return self.offer.kind is OfferKind.TEAMBATTLES_CHALLENGE

    @property
    def answer_is_newest(self) -> bool:
        """Answered here (an accepted challenge, say) and the listing has not moved on since:
        what the service said to the answer is the newer fact than the listed status."""
        return bool(self.answer_note) and self.offer.status == self.status_when_answered

    @property
    def status_words(self) -> str:
        if self.request is not None:
            return request_words(self.request)
        if self.closed is not None:
            if self.closed.outcome == NO_LONGER_OFFERED and self.answered and self.answer_note:
                return self.answer_note  # answered here: the answer is the news, not the listing
            return self.closed.outcome or self.closed.status
        if self.answer_is_newest:
            return self.answer_note or ""
        return self.offer.status


@dataclass(frozen=True)
class Applied:
    """What one update did: which offer, whether it is new, and whether it now awaits an answer
    that it did not await before (an arrival worth an alert)."""

    key: Key
    new: bool
    arrived: bool
    #: A decision on my request (approved, declined...) that was not known before.
    decided: bool = False


@dataclass
class Filters:
    """The "Open matches" filters: a fact name -> the value it must have (None: any)."""

    values: dict[str, str | None] = field(default_factory=lambda: dict.fromkeys(FILTER_FACTS))

    def matches(self, offer: Offer) -> bool:
        return all(want is None or offer.facts.get(name) == want for name, want in self.values.items())

    @property
    def active(self) -> bool:
        return any(v is not None for v in self.values.values())

    def describe(self) -> str:
        parts = [f"{FILTER_FACTS.get(k, k)}: {v}" for k, v in self.values.items() if v is not None]
        return ", ".join(parts)


def _window(offer: Offer, clock: Clock) -> float | None:
    """The seconds ``offer`` has left by ``clock`` (None: no deadline): a countdown bar's scale."""
    left = offer.time_left(clock)
    return None if left is None else left.total_seconds()


class OfferStore:
    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._entries: dict[Key, Entry] = {}
        #: The service's clock of each backend, by name; a backend without one uses ``clock``.
        self.clocks: dict[str, Clock] = {}

    def clock_for(self, backend: str) -> Clock:
        """The clock countdowns of ``backend``'s offers read: the service's, as measured."""
        return self.clocks.get(backend, self._clock)

    def __len__(self) -> int:
        return len(self._entries)

    def __iter__(self) -> Iterator[Entry]:
        return iter(self._entries.values())

    def get(self, key: Key) -> Entry | None:
        return self._entries.get(key)

    def find(self, offer_id: str) -> Entry | None:
        for entry in self._entries.values():
            if entry.offer.id == offer_id:
                return entry
        return None

    # --- writing -------------------------------------------------------------------------------

    def put(self, offer: Offer, backend: str) -> Applied:
        key = key_of(offer)
        entry = self._entries.get(key)
        clock = self.clock_for(backend)
        if entry is None:
            entry = self._entries[key] = self._new(offer, backend, clock)
            return Applied(key, new=True, arrived=entry.awaiting)
        was_awaiting = entry.awaiting
        if entry.refreshing:
            # Listed by its backend: from now on it is live, and counts down by that backend's
            # clock (the last-known copy was shown by this machine's, an early one by the
            # service's time as measured then).
            entry.refreshing = entry.confirmed = False
            entry.clock = clock
        fresh_question = offer.status == REQUIRES_ACCEPTANCE and (
            entry.closed is not None
            or entry.offer.status != REQUIRES_ACCEPTANCE
            or entry.offer.facts.get("match") != offer.facts.get("match")
        )
        if fresh_question:
            # A ticket proposed for a new match: a fresh question, even if an old one was answered.
            entry.answered = False
            entry.answer_note = None
            entry.player_answers.clear()
            entry.window = _window(offer, clock)
        if offer.deadline != entry.offer.deadline and entry.window is None:
            entry.window = _window(offer, clock)
        entry.offer = offer
        entry.closed = None
        return Applied(key, new=False, arrived=entry.awaiting and not was_awaiting)

    def _new(
        self, offer: Offer, backend: str, clock: Clock, *, refreshing: bool = False, confirmed: bool = False
    ) -> Entry:
        """A new entry for ``offer``, first seen now, its countdown's scale what is left by ``clock``."""
        return Entry(
            offer=offer,
            backend=backend,
            first_seen=self._clock.now(),
            window=_window(offer, clock),
            clock=clock,
            refreshing=refreshing,
            confirmed=confirmed,
        )

    def replace(self, backend: str, offers: Iterable[Offer]) -> list[Applied]:
        """A full listing from ``backend``: add and update these; an open offer of that backend
        missing from the listing is no longer answerable and is closed, and a last-known one
        it does not confirm goes away."""
        applied = [self.put(offer, backend) for offer in offers]
        seen = {a.key for a in applied}
        applied += self.drop_refreshing(lambda entry: entry.backend == backend)
        for key, entry in self._entries.items():
            if entry.backend == backend and key not in seen and entry.closed is None:
                entry.closed = OfferClosed(
                    kind=entry.offer.kind,
                    id=entry.offer.id,
                    status=entry.offer.status,
                    outcome=NO_LONGER_OFFERED,
                )
                applied.append(Applied(key, new=False, arrived=False))
        return applied

    def apply(self, change: Change, backend: str) -> Applied | None:
        if isinstance(change, OfferUpdated):
            return self.put(change.offer, backend)
        key = key_of(change)
        entry = self._entries.get(key)
        if entry is None:
            return None  # closing something never shown: nothing to say
        entry.closed = change
        return Applied(key, new=False, arrived=False)

    def mark_answered(self, key: Key, note: str | None) -> None:
        entry = self._entries.get(key)
        if entry is not None:
            entry.answered = True
            entry.answer_note = note
            entry.status_when_answered = entry.offer.status

    def mark_players(self, key: Key, players: Iterable[str], verdict: str, note: str | None) -> None:
        """The captain answered for ``players`` of a ticket (``verdict``: "accepted" or
        "rejected"); the ticket counts as answered once every player of it is."""
        entry = self._entries.get(key)
        if entry is None:
            return
        for player in players:
            entry.player_answers[player] = verdict
        entry.answer_note = note
        entry.status_when_answered = entry.offer.status
        if not entry.unanswered_players:
            entry.answered = True

    def note_request(self, backend: str, request: MyRequest) -> Applied | None:
        """The backend's record of a request I sent (possibly in an earlier session, for a match
        no longer offered). None when nothing changed."""
        match_id = request.match_id
        entry = None
        for kind in (OfferKind.TEAMBATTLES_MATCH, OfferKind.TEAMBATTLES_CHALLENGE):
            entry = self._entries.get((kind, match_id))
            if entry is not None:
                break
        if entry is None:
            stub = Offer(kind=OfferKind.TEAMBATTLES_MATCH, id=match_id, title=f"Match {match_id}", status=request.status)
            entry = Entry(offer=stub, backend=backend, first_seen=self._clock.now(), clock=self.clock_for(backend))
            self._entries[entry.key] = entry
        elif entry.requests.get(request.acceptance_id) == request and entry.answered:
            return None
        # A request not seen before is the newest: it is the one shown. A later fact about an
        # older one (superseded, say) is kept without hiding the newer request.
        entry.requests[request.acceptance_id] = request
        newest = next(reversed(entry.requests))
        before = entry.request
        entry.request = entry.requests[newest]
        entry.answered = True
        decided = (
            entry.request is request
            and request.status.upper() in DECIDED
            and (before is None or before.acceptance_id != request.acceptance_id or before.status != request.status)
        )
        return Applied(entry.key, new=False, arrived=False, decided=decided)

    def remember(self, last_known: Iterable[tuple[str, Offer]]) -> list[Applied]:
        """Show offers of an earlier session (backend name, offer), each marked as refreshing
        until its backend confirms or drops it; one already known, or past its deadline, is
        left out."""
        applied = []
        for backend, offer in last_known:
            key = key_of(offer)
            if key in self._entries or offer.expired(self._clock):
                continue
            self._entries[key] = self._new(offer, backend, self._clock, refreshing=True)
            applied.append(Applied(key, new=True, arrived=False))
        return applied

    def confirm(self, backend: str, offers: Iterable[Offer], clock: Clock) -> list[Applied]:
        """The early listing of ``backend`` (read from the service at start-up, before the
        backend itself is connected): each offer is shown as live, counted down by ``clock``
        (the service's time as measured then), until the backend lists it itself; a last-known
        offer of that backend it does not list goes away. An offer the backend has listed
        itself already is left as it is."""
        applied = []
        listed: set[Key] = set()
        for offer in offers:
            key = key_of(offer)
            listed.add(key)
            entry = self._entries.get(key)
            if entry is not None and not entry.refreshing:
                continue
            if entry is None:
                self._entries[key] = self._new(offer, backend, clock, refreshing=True, confirmed=True)
                applied.append(Applied(key, new=True, arrived=False))
                continue
            entry.offer, entry.clock, entry.window, entry.confirmed = offer, clock, _window(offer, clock), True
            applied.append(Applied(key, new=False, arrived=False))
        applied += self.drop_refreshing(lambda entry: entry.backend == backend and entry.key not in listed)
        return applied

    def unconfirm(self, backend: str) -> list[Applied]:
        """The offers the early listing confirmed for ``backend`` are last known again (its
        own listing failed): marked, no longer counted as live."""
        applied = []
        for key, entry in self._entries.items():
            if entry.backend == backend and entry.refreshing and entry.confirmed:
                entry.confirmed = False
                applied.append(Applied(key, new=False, arrived=False))
        return applied

    def drop_refreshing(self, which: Callable[[Entry], bool] = lambda entry: True) -> list[Applied]:
        """Forget the last-known offers no backend confirmed (those ``which`` picks)."""
        gone = [key for key, entry in self._entries.items() if entry.refreshing and which(entry)]
        for key in gone:
            del self._entries[key]
        return [Applied(key, new=False, arrived=False) for key in gone]

    @property
    def refreshing(self) -> bool:
        """Some offer shown at start-up is still waiting for its backend's word."""
        return any(entry.refreshing for entry in self._entries.values())

    @property
    def unconfirmed(self) -> bool:
        """Some last-known offer is still waiting for a listing's word (:attr:`Entry.unconfirmed`)."""
        return any(entry.unconfirmed for entry in self._entries.values())

    def last_known(self) -> list[tuple[str, Offer]]:
        """What is worth showing at the next start-up: each offer still open and unanswered,
        with the name of its backend."""
        return [
            (entry.backend, entry.offer)
            for entry in self._entries.values()
            if entry.closed is None
            and not entry.answered
            and (entry.awaiting or entry.offer.kind is OfferKind.TEAMBATTLES_MATCH)
            and not entry.offer.expired(entry.clock)
        ]

    def drop_backend(self, backend: str) -> None:
        self._entries = {k: e for k, e in self._entries.items() if e.backend != backend}

    def clear(self) -> None:
        """Forget every offer but the last-known ones still waiting for their backend (a
        profile connecting at start-up confirms or drops them)."""
        self._entries = {k: e for k, e in self._entries.items() if e.refreshing}

    # --- reading -------------------------------------------------------------------------------

    def _by_deadline(self, entries: Iterable[Entry]) -> list[Entry]:
        far = datetime.max.replace(tzinfo=self._clock.now().tzinfo)
        return sorted(entries, key=lambda e: (e.offer.deadline or far, e.offer.title, e.offer.id))

    def awaiting(self) -> list[Entry]:
        return self._by_deadline(e for e in self._entries.values() if e.awaiting)

    def open_matches(self, filters: Filters | None = None) -> list[Entry]:
        return self._by_deadline(
            e
            for e in self._entries.values()
            if e.offer.kind is OfferKind.TEAMBATTLES_MATCH
            and e.closed is None
            and not e.answered
            and (filters is None or filters.matches(e.offer))
        )

    def my_requests(self) -> list[Entry]:
        def settled(e: Entry) -> bool:
            if e.request is not None:
                return e.request.status.upper() != "PENDING"
            return e.closed is not None

        return sorted(
            (e for e in self._entries.values() if e.answered),
            key=lambda e: (settled(e), e.first_seen, e.offer.id),
        )

    def fact_values(self, name: str) -> list[str]:
        """Every value of one fact among open matches, for the filter choices."""
        return sorted(
            {
                e.offer.facts[name]
                for e in self._entries.values()
                if e.offer.kind is OfferKind.TEAMBATTLES_MATCH and name in e.offer.facts
            }
        )


class LastKnown:
    """The offers the console last knew, in a file (under the state directory), kept per
    ``identity``: a profile and where its service ran. Offers of another profile, or of an
    emulator since restarted elsewhere, are never shown as this one's; the newest
    :attr:`KEEP` identities are kept. A missing file reads as nothing; an unreadable one, one
    of another format, or an offer in it that is not one, is left out with a note in the log
    (the console still starts); a failed write keeps nothing (the console still works).

    The file is plain JSON, read and written by hand (:func:`~lobby.core.offers.offer_from_json`,
    :func:`~lobby.core.offers.offer_json`): the offers are shown in the first frame, before any adapter has
    validated anything."""

    VERSION = 2
    #: How many profiles (identities) the file keeps, the most recently written first.
    KEEP = 8

    @staticmethod
    def identity(profile: str | None, where: str | None) -> str:
        """Whose offers they are: a profile, and where its service runs (None: wherever it
        is configured)."""
        return json.dumps([profile, where])

    def __init__(self, path: Path) -> None:
        self.path = path

    def _read(self) -> dict[str, object]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            log.warning("last-known offers not read from %s: %s", self.path, exc)
            return {}
        kept = data.get("identities") if isinstance(data, dict) else None
        if not isinstance(data, dict) or data.get("version") != self.VERSION or not isinstance(kept, dict):
            found = data.get("version") if isinstance(data, dict) else None
            log.warning(
                "last-known offers in %s left out: not the format of this version (%s, expected %s)",
                self.path,
                found,
                self.VERSION,
            )
            return {}
        return kept

    def load(self, identity: str) -> list[tuple[str, Offer]]:
        items = self._read().get(identity, [])
        if not isinstance(items, list):
            log.warning("last-known offers in %s left out: not a list", self.path)
            return []
        found = []
        for item in items:
            try:
                if not isinstance(item, dict) or not isinstance(item.get("backend"), str):
                    raise ValueError("not a backend and an offer")
                found.append((item["backend"], offer_from_json(item.get("offer"))))
            except ValueError as exc:
                log.warning("a last-known offer in %s left out: %s", self.path, exc)
        return found

    def save(self, identity: str, offers: Iterable[tuple[str, Offer]]) -> None:
        kept = {
            identity: [{"backend": backend, "offer": offer_json(offer)} for backend, offer in offers],
            **{k: v for k, v in self._read().items() if k != identity},
        }
        data = {"version": self.VERSION, "identities": dict(list(kept.items())[: self.KEEP])}
        temporary = self.path.with_name(f".{self.path.name}.{os.getpid()}")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            temporary.write_text(json.dumps(data), encoding="utf-8")
            os.replace(temporary, self.path)
        except OSError:
            with contextlib.suppress(OSError):
                temporary.unlink(missing_ok=True)
