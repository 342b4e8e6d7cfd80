"""One line saying how each backend is doing: loading, live, reconnecting, failed; and what a
backend says the user must be told while connected (an emulator above the service's rate
limits)."""

from __future__ import annotations

from collections.abc import Iterable

from rich.text import Text
from textual.widgets import Static

from lobby.tui.messages import BackendStatus, Health
from lobby.tui.safe import BRIEF, brief, clean

_MARKS = {
    Health.LOADING: ("◌", "yellow"),
    Health.LIVE: ("●", "green"),
    Health.RECONNECTING: ("◍", "yellow"),
    Health.ERROR: ("✖", "red"),
    Health.CLOSED: ("○", "dim"),
}

#: What introduces a backend's notice. The notice is a whole sentence that says what it is about
#: in words ("TeamBattles rate limits raised above the service's own (pro): <reason>"); the mark
#: and the colour only underline it, and nothing repeats its words, so it fits at 80 columns.
NOTICE = "⚠ "


def describe(
    statuses: Iterable[BackendStatus],
    labels: dict[str, str],
    extra: str = "",
    *,
    connecting: str | None = None,
    notices: Iterable[str] = (),
) -> Text:
    """The status line. ``connecting`` names a profile more of whose backends are on their way;
    said only while none is loading (a loading one already shows that something is coming).
    ``notices`` are the servers' sentences the user must see while connected (shown cleaned,
    after the backends)."""
    text = Text(no_wrap=True, overflow="ellipsis")
    first = True
    statuses = list(statuses)
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
    if connecting is not None and not any(s.health is Health.LOADING for s in statuses):
        mark, style = _MARKS[Health.LOADING]
        text.append(f"{'' if first else '   '}{mark} ", style=style)
        text.append(f"connecting to profile {clean(connecting)}…", style=style)
    elif first:
        text.append("No backend configured. Set a profile in config.toml, or run `lobby demo`.", style="dim")
    for notice in notices:
        text.append(f"   {NOTICE}", style="bold yellow")
        text.append(brief(notice, BRIEF), style="bold yellow")
    if extra:
        text.append(f"   {extra}", style="dim")
    return text


class BackendBar(Static):
    DEFAULT_CSS = """
    BackendBar { height: 1; padding: 0 1; background: $panel; color: $text; }
    """

    _shown: tuple[object, ...] | None = None

    def show(self, text: Text) -> None:
        """Show ``text``: repainted only when it changed, never a new layout (one line, always)."""
        key = same_text_key(text)
        if key != self._shown:
            self._shown = key
            self.update(text, layout=False)


def same_text_key(text: Text | str) -> tuple[object, ...]:
    """What makes two pieces of text look the same on screen (rich's Text equality ignores
    the base style)."""
    if isinstance(text, str):
        return (text,)
    return (text.plain, text.style, tuple(text.spans), text.justify, text.overflow, text.no_wrap, text.end)
