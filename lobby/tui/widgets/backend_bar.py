"""One line saying how each backend is doing: loading, live, reconnecting, failed."""

from __future__ import annotations

from collections.abc import Iterable

from rich.text import Text
from textual.widgets import Static

from lobby.tui.messages import BackendStatus, Health
from lobby.tui.safe import clean

_MARKS = {
    Health.LOADING: ("◌", "yellow"),
    Health.LIVE: ("●", "green"),
    Health.RECONNECTING: ("◍", "yellow"),
    Health.ERROR: ("✖", "red"),
    Health.CLOSED: ("○", "dim"),
}


def describe(statuses: Iterable[BackendStatus], labels: dict[str, str], extra: str = "") -> Text:
    text = Text(no_wrap=True, overflow="ellipsis")
    first = True
    for status in statuses:
        if not first:
            text.append("   ")
        first = False
        mark, style = _MARKS[status.health]
        text.append(f"{mark} ", style=style)
        text.append(labels.get(status.name, clean(status.name)), style="bold")
        text.append(f" {status.health.value}", style=style)
        if status.health is Health.ERROR and status.detail:
            text.append(": ", style=style)
            text.append(clean(status.detail), style=style)
    if first:
        text.append("No backend configured. Set a profile in config.toml, or run `lobby demo`.", style="dim")
    if extra:
        text.append(f"   {extra}", style="dim")
    return text


class BackendBar(Static):
    DEFAULT_CSS = """
    BackendBar { height: 1; padding: 0 1; background: $panel; color: $text; }
    """
