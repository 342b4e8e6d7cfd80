"""What the FlexMatch side of the emulator is seeded with, and how its demo bots behave.

Rule sets and configurations are created once, in a fresh database, through the same service
calls as the API. The players come in two kinds:

- human parties: the captain's own players (the ones the console calls "mine"). Bots queue
  them for matches so there are offers to answer, but never answer for them;
- bot players: queued in small parties and answering their offers after a random delay,
  now and then with a rejection.

Every random choice the bots make derives from ``seed``, so a run is reproducible for a given
clock.
"""

from __future__ import annotations

import json
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from lobby.flexmatch.ruleset import RuleSetInvalid, parse_rule_set

_NAME = r"^[a-zA-Z0-9\-\.]+$"


class RuleSetSeed(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=128, pattern=_NAME)
    body: dict[str, Any] = Field(description="The rule set document (sent as RuleSetBody).")

    @field_validator("body")
    @classmethod
    def _usable(cls, body: dict[str, Any]) -> dict[str, Any]:
        try:
            parse_rule_set(json.dumps(body))
        except RuleSetInvalid as exc:
            raise ValueError(str(exc)) from None
        return body


class ConfigurationSeed(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=128, pattern=_NAME)
    rule_set: str = Field(min_length=1, max_length=128, pattern=_NAME)
    description: str | None = Field(default=None, min_length=1, max_length=1024)
    acceptance_required: bool = True
    acceptance_timeout_seconds: int = Field(default=45, ge=1, le=600)
    request_timeout_seconds: int = Field(default=300, ge=1, le=43200)
    flexmatch_mode: Literal["WITH_QUEUE", "STANDALONE"] = "WITH_QUEUE"
    game_session_queue_arns: list[str] = Field(default_factory=list, max_length=1)
    custom_event_data: str | None = Field(default=None, max_length=256)

    def create_request(self) -> dict[str, Any]:
        """The CreateMatchmakingConfiguration input this seed stands for."""
        request: dict[str, Any] = {
            "Name": self.name,
            "RuleSetName": self.rule_set,
            "AcceptanceRequired": self.acceptance_required,
            "RequestTimeoutSeconds": self.request_timeout_seconds,
            "FlexMatchMode": self.flexmatch_mode,
        }
        if self.acceptance_required:
            request["AcceptanceTimeoutSeconds"] = self.acceptance_timeout_seconds
        if self.description:
            request["Description"] = self.description
        if self.game_session_queue_arns:
            request["GameSessionQueueArns"] = list(self.game_session_queue_arns)
        if self.custom_event_data is not None:
            request["CustomEventData"] = self.custom_event_data
        return request


class HumanParty(BaseModel):
    """Players at the terminal, queued together as one ticket."""

    model_config = ConfigDict(extra="forbid")

    players: list[str] = Field(min_length=1, max_length=10)
    configurations: list[str] = Field(
        min_length=1, description="Configurations the party is queued into, in turn."
    )


class BotBehaviour(BaseModel):
    model_config = ConfigDict(extra="forbid")

    count: int = Field(default=0, ge=0, le=10000, description="How many bot players exist.")
    id_prefix: str = Field(default="bot-", pattern=r"^[a-zA-Z0-9\-\.]*$", max_length=64)
    configurations: list[str] = Field(
        default_factory=list, description="Configurations bots queue into; empty means all."
    )
    party_sizes: list[int] = Field(
        default_factory=lambda: [1], min_length=1, description="Ticket sizes, picked uniformly."
    )
    queue_every_seconds: tuple[float, float] = Field(
        default=(1.0, 3.0), description="Range of the pause between two bot tickets."
    )
    accept_delay_seconds: tuple[float, float] = Field(
        default=(1.0, 10.0), description="Range of the time a bot takes to answer an offer."
    )
    reject_probability: float = Field(default=0.05, ge=0.0, le=1.0)
    human_requeue_seconds: float = Field(
        default=5.0, ge=0.0, description="Pause before an idle human party is queued again."
    )

    @field_validator("party_sizes")
    @classmethod
    def _sizes(cls, sizes: list[int]) -> list[int]:
        if any(not 1 <= s <= 10 for s in sizes):
            raise ValueError("party sizes must be between 1 and 10")
        return sizes

    @field_validator("queue_every_seconds", "accept_delay_seconds")
    @classmethod
    def _range(cls, pair: tuple[float, float]) -> tuple[float, float]:
        lo, hi = pair
        if lo < 0 or hi < lo:
            raise ValueError("a range is [low, high] with 0 <= low <= high")
        return pair

    @property
    def player_ids(self) -> list[str]:
        width = max(3, len(str(self.count)))
        return [f"{self.id_prefix}{n:0{width}d}" for n in range(1, self.count + 1)]


class FlexMatchScenario(BaseModel):
    model_config = ConfigDict(extra="forbid")

    seed: int = Field(default=1, description="Seeds every random choice of the FlexMatch bots.")
    queue_seconds: float = Field(
        default=0.0, ge=0.0, le=3600.0, description="Time a new ticket stays QUEUED."
    )
    placement_seconds: float = Field(
        default=2.0, ge=0.0, le=3600.0, description="Time an accepted match stays PLACING."
    )
    placement_failure_probability: float = Field(
        default=0.0, ge=0.0, le=1.0, description="Chance that a placement ends FAILED."
    )
    rule_sets: list[RuleSetSeed] = Field(default_factory=list)
    configurations: list[ConfigurationSeed] = Field(default_factory=list)
    human_parties: list[HumanParty] = Field(default_factory=list)
    bots: BotBehaviour = Field(default_factory=BotBehaviour)

    @model_validator(mode="after")
    def _consistent(self) -> FlexMatchScenario:
        rule_sets = [r.name for r in self.rule_sets]
        _unique(rule_sets, "rule set")
        configs = [c.name for c in self.configurations]
        _unique(configs, "configuration")
        for c in self.configurations:
            if c.rule_set not in rule_sets:
                raise ValueError(f"configuration {c.name!r} uses unknown rule set {c.rule_set!r}")
            if c.flexmatch_mode == "STANDALONE" and c.game_session_queue_arns:
                raise ValueError(f"STANDALONE configuration {c.name!r} cannot name game session queues")
        for where in [p.configurations for p in self.human_parties] + [self.bots.configurations]:
            for name in where:
                if name not in configs:
                    raise ValueError(f"unknown configuration {name!r}")
        humans = self.human_player_ids
        _unique(humans, "human player")
        clash = set(humans) & set(self.bots.player_ids)
        if clash:
            raise ValueError(f"player {sorted(clash)[0]!r} is both a human and a bot")
        return self

    @property
    def human_player_ids(self) -> list[str]:
        """The captain's players: the ones an operator answers for."""
        return [p for party in self.human_parties for p in party.players]


def _unique(names: list[str], what: str) -> None:
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise ValueError(f"{what} {name!r} appears twice")
        seen.add(name)
