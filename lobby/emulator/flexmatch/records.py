"""The rows the FlexMatch emulator works on: a matchmaking ticket and a matchmaking
configuration, as read from ``fm_tickets`` and ``fm_configurations``."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from lobby.flexmatch.lifecycle import TicketStatus

TICKET_COLUMNS = (
    "seq, ticket_id, config_name, status, status_reason, status_message, start_time, end_time,"
    " players, match_id, request_deadline, searching_since, rounds, estimate, connection"
)


@dataclass(slots=True)
class Ticket:
    seq: int
    ticket_id: str
    config_name: str
    status: TicketStatus
    status_reason: str | None
    status_message: str | None
    start_time: float
    end_time: float | None
    players: list[dict[str, Any]]
    match_id: str | None
    request_deadline: float
    searching_since: float | None
    rounds: int
    estimate: int | None
    connection: str | None

    @classmethod
    def from_row(cls, row: Any) -> Ticket:
        return cls(
            row[0], row[1], row[2], TicketStatus(row[3]), row[4], row[5], row[6], row[7],
            json.loads(row[8]), row[9], row[10], row[11], row[12], row[13], row[14],
        )  # fmt: skip

    @property
    def player_ids(self) -> list[str]:
        return [p["PlayerId"] for p in self.players]


@dataclass(slots=True)
class Config:
    name: str
    rule_set_name: str
    settings: dict[str, Any]
    creation_time: float
    wait_estimate: float | None

    @classmethod
    def from_row(cls, row: Any) -> Config:
        return cls(row[0], row[1], json.loads(row[2]), row[3], row[4])

    @property
    def acceptance_required(self) -> bool:
        return bool(self.settings.get("AcceptanceRequired"))

    @property
    def acceptance_timeout(self) -> int | None:
        return self.settings.get("AcceptanceTimeoutSeconds")

    @property
    def standalone(self) -> bool:
        return self.settings.get("FlexMatchMode") == "STANDALONE"

    @property
    def custom_event_data(self) -> str | None:
        return self.settings.get("CustomEventData")
