"""What the engine matches: tickets of one or more players, each with attributes and latencies.

:func:`player_from_wire` reads a GameLift ``Player`` structure (``PlayerAttributes`` as
``{"S"|"N"|"SL"|"SDM": value}``, ``LatencyInMs``) into a :class:`Player`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from lobby.flexmatch.ruleset.model import AttributeValue


@dataclass(frozen=True, slots=True)
class Player:
    player_id: str
    attributes: Mapping[str, AttributeValue] = field(default_factory=dict)
    #: Milliseconds to each region (or location) the player reported.
    latencies: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Ticket:
    """A searching ticket: its players go to one team together."""

    ticket_id: str
    start_time: float
    players: tuple[Player, ...]


class WireError(ValueError):
    """A player structure that is not GameLift's shape."""


def attribute_from_wire(raw: Any) -> AttributeValue:
    """One ``AttributeValue`` (exactly one of S, N, SL, SDM) as a Python value. Repeated
    strings in a list count once, as GameLift documents."""
    if not isinstance(raw, Mapping) or len(raw) != 1:
        raise WireError("An attribute value must be an object with exactly one of S, N, SL or SDM.")
    (kind, value), = raw.items()
    if kind == "S" and isinstance(value, str):
        return value
    if kind == "N" and _number(value):
        return float(value)
    if kind == "SL" and isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(dict.fromkeys(value))
    if kind == "SDM" and isinstance(value, Mapping) and all(
        isinstance(k, str) and _number(v) for k, v in value.items()
    ):
        return {k: float(v) for k, v in value.items()}
    raise WireError(f"An attribute value of kind {kind!r} does not hold what that kind holds.")


def player_from_wire(raw: Mapping[str, Any]) -> Player:
    """A GameLift ``Player`` (``PlayerId``, ``PlayerAttributes``, ``LatencyInMs``)."""
    player_id = raw.get("PlayerId")
    if not isinstance(player_id, str):
        raise WireError("A player needs a string PlayerId.")
    attributes = raw.get("PlayerAttributes")
    latencies = raw.get("LatencyInMs")
    attributes = {} if attributes is None else attributes
    latencies = {} if latencies is None else latencies
    if not isinstance(attributes, Mapping) or not isinstance(latencies, Mapping):
        raise WireError("PlayerAttributes and LatencyInMs must be objects.")
    lat: dict[str, float] = {}
    for region, ms in latencies.items():
        if not isinstance(region, str) or not _number(ms):
            raise WireError("LatencyInMs maps region names to numbers of milliseconds.")
        lat[region] = float(ms)
    return Player(
        player_id,
        {str(name): attribute_from_wire(value) for name, value in attributes.items()},
        lat,
    )


def ticket_from_wire(ticket_id: str, start_time: float, players: Sequence[Mapping[str, Any]]) -> Ticket:
    return Ticket(ticket_id, start_time, tuple(player_from_wire(p) for p in players))


def _number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
