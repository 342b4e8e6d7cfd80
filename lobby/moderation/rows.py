"""What the moderator's board holds: one row per FlexMatch ticket or TeamBattles match, the
timeline entries of each, and the statuses rows can be in."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import NamedTuple

from lobby.flexmatch.lifecycle import TicketStatus


class Kind(StrEnum):
    TICKET = "ticket"  # a FlexMatch matchmaking ticket
    MATCH = "match"  # a TeamBattles match


#: (kind, id): one row.
Key = tuple[str, str]

FLEXMATCH_FINAL = frozenset(s.value for s in TicketStatus if s.terminal)
TEAMBATTLES_FINAL = frozenset({"COMPLETED", "CANCELLED", "FORFEITED"})
#: TeamBattles statuses in which ``scheduledAt`` is a deadline: an open match is cancelled
#: then, an accepted one starts.
TEAMBATTLES_DEADLINE = frozenset({"PENDING", "ACCEPTED", "READY"})
#: Rows waiting for a match: the queue whose depth the header draws.
WAITING = frozenset({"QUEUED", "SEARCHING", "PENDING"})

#: Every status in lifecycle order (sorting by status uses it).
STATUS_ORDER: tuple[str, ...] = (
    "QUEUED",
    "SEARCHING",
    "PENDING",
    "REQUIRES_ACCEPTANCE",
    "ACCEPTED",
    "READY",
    "PLACING",
    "IN_PROGRESS",
    "DISPUTED",
    "COMPLETED",
    "CANCELLED",
    "TIMED_OUT",
    "FAILED",
    "FORFEITED",
)
FINAL_STATUSES = FLEXMATCH_FINAL | TEAMBATTLES_FINAL

#: The status a row starts in, and the final statuses, by kind.
INITIAL_STATUS: dict[str, str] = {Kind.TICKET: "QUEUED", Kind.MATCH: "PENDING"}
_FINAL: dict[str, frozenset[str]] = {Kind.TICKET: FLEXMATCH_FINAL, Kind.MATCH: TEAMBATTLES_FINAL}


def is_final(kind: str, status: str) -> bool:
    return status in _FINAL[kind]


@dataclass(slots=True, eq=False)
class Row:
    """One ticket or match as the moderator sees it."""

    kind: str
    id: str
    status: str
    #: When the ticket started / the match was created.
    created: float
    #: When the current status began.
    status_since: float
    #: FlexMatch configuration, or TeamBattles game and mode.
    group: str = ""
    #: Acceptance progress: players who accepted (tickets) or approved requests (matches) of
    #: ``total``; total 0 while there is nothing to accept.
    accepted: int = 0
    total: int = 0
    #: Acceptance deadline (tickets) or scheduled start (open and accepted matches).
    deadline: float | None = None
    #: Players: id -> team (tickets); user id -> username (matches).
    players: dict[str, str | None] = field(default_factory=dict)
    #: Team names: ticket teams once matched; creator and opponent of a match.
    teams: tuple[str, ...] = ()
    #: The proposed FlexMatch match, or the TeamBattles match's own id.
    match_id: str | None = None
    reason: str | None = None
    finished_at: float | None = None
    #: Grows on every change, so views can cache what they drew.
    version: int = 0
    #: A final status inferred from a dropped match, not yet confirmed by its own event.
    provisional: bool = False
    #: The ticket was matched at least once (time to match is counted once).
    matched: bool = False
    #: Team ids seen on a match (to filter by), besides the names in ``teams``.
    team_ids: tuple[str, ...] = ()
    #: The AWS region the row's events come from ("" when none says).
    region: str = ""
    #: (kind, id), made once: every change of a row is recorded under it.
    key: Key = field(init=False, repr=False)

    def __post_init__(self) -> None:
        # The kind as plain text (a Kind compares equal to it): a tuple of plain values, such
        # as the key and the view's sort entries, is dropped from the garbage collector's watch.
        self.kind = str(self.kind)
        self.key = (self.kind, self.id)

    @property
    def live(self) -> bool:
        return self.finished_at is None

    def player_list(self) -> list[str]:
        """Player ids (tickets) or usernames (matches), in the order first seen."""
        if self.kind == Kind.TICKET:
            return list(self.players)
        return [name or uid for uid, name in self.players.items()]


class TimelineEntry(NamedTuple):
    """One line of a row's timeline (a named tuple: one is made per row an event concerns)."""

    time: float
    uid: str
    type: str
    #: One plain sentence; network text inside it is not yet made safe to show.
    text: str
