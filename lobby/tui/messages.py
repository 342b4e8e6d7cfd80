"""What the app tells its screens (through signals) when the state store changes."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Health(StrEnum):
    LOADING = "loading"
    LIVE = "live"
    RECONNECTING = "reconnecting"
    ERROR = "error"
    CLOSED = "closed"


@dataclass(frozen=True)
class BackendStatus:
    """How one backend is doing, for the status line: ``detail`` is a plain sentence."""

    name: str
    health: Health
    detail: str = ""


BACKEND_LABELS = {"flexmatch": "FlexMatch", "teambattles": "TeamBattles"}


def backend_label(name: str) -> str:
    """The product name of a backend, for people."""
    return BACKEND_LABELS.get(name, name)
