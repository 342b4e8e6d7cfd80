"""What GameLift FlexMatch sends and receives, as typed pydantic models (AWS JSON 1.1).

Members are snake_case in Python and PascalCase on the wire (aliases). Unknown members are
ignored so a service that grows new fields does not break lobby. Timestamps arrive as epoch
seconds and become timezone-aware UTC datetimes.

Matchmaking events (EventBridge envelopes) are read by :mod:`~lobby.flexmatch.notifications`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field
from pydantic.alias_generators import to_pascal

from lobby.flexmatch.lifecycle import TicketStatus

#: MatchmakingIdStringModel: ticket ids, configuration names in tickets.
ID_PATTERN = r"^[a-zA-Z0-9-\.]*$"
ID_MAX = 128


def _epoch(value: Any) -> Any:
    """Epoch seconds (what the API sends) or an ISO string to an aware UTC datetime."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value, UTC)
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


Timestamp = Annotated[datetime, BeforeValidator(_epoch)]


class Wire(BaseModel):
    """A structure of the GameLift API: PascalCase on the wire."""

    model_config = ConfigDict(
        alias_generator=to_pascal, populate_by_name=True, extra="ignore", frozen=True, defer_build=True
    )

    def to_wire(self) -> dict[str, Any]:
        return self.model_dump(by_alias=True, exclude_none=True, mode="json")


class AcceptanceType(StrEnum):
    ACCEPT = "ACCEPT"
    REJECT = "REJECT"


class FlexMatchMode(StrEnum):
    STANDALONE = "STANDALONE"
    WITH_QUEUE = "WITH_QUEUE"


class BackfillMode(StrEnum):
    AUTOMATIC = "AUTOMATIC"
    MANUAL = "MANUAL"


# --- structures -------------------------------------------------------------------------------


class AttributeValue(Wire):
    s: str | None = Field(default=None, alias="S")
    n: float | None = Field(default=None, alias="N")
    sl: list[str] | None = Field(default=None, alias="SL")
    sdm: dict[str, float] | None = Field(default=None, alias="SDM")


class Player(Wire):
    player_id: str | None = Field(default=None, min_length=1, max_length=1024)
    player_attributes: dict[str, AttributeValue] | None = None
    team: str | None = Field(default=None, min_length=1, max_length=1024)
    latency_in_ms: dict[str, int] | None = None

    def __repr__(self) -> str:  # player ids are sensitive in the service model
        return f"Player(team={self.team!r})"


class MatchedPlayerSession(Wire):
    player_id: str | None = None
    player_session_id: str | None = None


class GameSessionConnectionInfo(Wire):
    game_session_arn: str | None = None
    ip_address: str | None = None
    dns_name: str | None = None
    port: int | None = None
    matched_player_sessions: list[MatchedPlayerSession] = Field(default_factory=list)
    player_gateway_status: str | None = None


class MatchmakingTicket(Wire):
    ticket_id: str
    configuration_name: str | None = None
    configuration_arn: str | None = None
    status: TicketStatus
    status_reason: str | None = None
    status_message: str | None = None
    start_time: Timestamp | None = None
    end_time: Timestamp | None = None
    players: list[Player] = Field(default_factory=list)
    game_session_connection_info: GameSessionConnectionInfo | None = None
    estimated_wait_time: int | None = None

    @property
    def player_ids(self) -> list[str]:
        return [p.player_id for p in self.players if p.player_id]


class GameProperty(Wire):
    key: str
    value: str


class MatchmakingConfiguration(Wire):
    name: str
    configuration_arn: str | None = None
    description: str | None = None
    game_session_queue_arns: list[str] = Field(default_factory=list)
    request_timeout_seconds: int | None = None
    acceptance_timeout_seconds: int | None = None
    acceptance_required: bool | None = None
    rule_set_name: str | None = None
    rule_set_arn: str | None = None
    notification_target: str | None = None
    additional_player_count: int | None = None
    custom_event_data: str | None = None
    creation_time: Timestamp | None = None
    game_properties: list[GameProperty] = Field(default_factory=list)
    game_session_data: str | None = None
    backfill_mode: BackfillMode | None = None
    flex_match_mode: FlexMatchMode | None = None


class MatchmakingRuleSet(Wire):
    rule_set_name: str | None = None
    rule_set_arn: str | None = None
    rule_set_body: str
    creation_time: Timestamp | None = None


class Tag(Wire):
    key: str
    value: str


# --- requests ---------------------------------------------------------------------------------

TicketId = Annotated[str, Field(min_length=1, max_length=ID_MAX, pattern=ID_PATTERN)]
PlayerId = Annotated[str, Field(min_length=1, max_length=1024)]


class StartMatchmakingRequest(Wire):
    ticket_id: Annotated[str, Field(max_length=ID_MAX, pattern=ID_PATTERN)] | None = None
    configuration_name: Annotated[str, Field(min_length=1, max_length=256)]
    players: Annotated[list[Player], Field(min_length=1)]


class DescribeMatchmakingRequest(Wire):
    ticket_ids: Annotated[list[TicketId], Field(min_length=1, max_length=10)]


class StopMatchmakingRequest(Wire):
    ticket_id: TicketId


class AcceptMatchRequest(Wire):
    ticket_id: TicketId
    player_ids: Annotated[list[PlayerId], Field(min_length=1)]
    acceptance_type: AcceptanceType

    def __repr__(self) -> str:
        return f"AcceptMatchRequest(ticket_id={self.ticket_id!r}, players={len(self.player_ids)}, acceptance_type={self.acceptance_type.value})"


class DescribeMatchmakingConfigurationsRequest(Wire):
    names: list[str] | None = None
    rule_set_name: str | None = None
    limit: Annotated[int, Field(ge=1, le=10)] | None = None
    next_token: str | None = None


class CreateMatchmakingRuleSetRequest(Wire):
    name: Annotated[str, Field(min_length=1, max_length=ID_MAX, pattern=ID_PATTERN)]
    rule_set_body: Annotated[str, Field(min_length=1, max_length=65535)]
    tags: list[Tag] | None = None


class CreateMatchmakingConfigurationRequest(Wire):
    name: Annotated[str, Field(min_length=1, max_length=ID_MAX, pattern=ID_PATTERN)]
    description: str | None = None
    game_session_queue_arns: list[str] | None = None
    request_timeout_seconds: Annotated[int, Field(ge=1, le=43200)]
    acceptance_timeout_seconds: Annotated[int, Field(ge=1, le=600)] | None = None
    acceptance_required: bool
    rule_set_name: str
    notification_target: str | None = None
    additional_player_count: int | None = None
    custom_event_data: str | None = None
    game_properties: list[GameProperty] | None = None
    game_session_data: str | None = None
    backfill_mode: BackfillMode | None = None
    flex_match_mode: FlexMatchMode | None = None
    tags: list[Tag] | None = None


# --- responses --------------------------------------------------------------------------------


class Empty(Wire):
    pass


class StartMatchmakingResponse(Wire):
    matchmaking_ticket: MatchmakingTicket


class DescribeMatchmakingResponse(Wire):
    ticket_list: list[MatchmakingTicket] = Field(default_factory=list)


class DescribeMatchmakingConfigurationsResponse(Wire):
    configurations: list[MatchmakingConfiguration] = Field(default_factory=list)
    next_token: str | None = None


class CreateMatchmakingRuleSetResponse(Wire):
    rule_set: MatchmakingRuleSet


class CreateMatchmakingConfigurationResponse(Wire):
    configuration: MatchmakingConfiguration


class ErrorBody(BaseModel):
    """``{"__type": "...#Code", "message": "..."}``; some services spell it ``Message``."""

    model_config = ConfigDict(extra="ignore")

    type: str | None = Field(default=None, alias="__type")
    message: str | None = None
    message_upper: str | None = Field(default=None, alias="Message")

    @property
    def code(self) -> str | None:
        if not self.type:
            return None
        return self.type.rsplit("#", 1)[-1].split(":", 1)[0] or None

    @property
    def text(self) -> str | None:
        return self.message or self.message_upper
