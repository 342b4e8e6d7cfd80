"""An inline countdown: the time left until a deadline, read from the injected clock."""

from __future__ import annotations

from datetime import datetime

from rich.text import Text
from textual.reactive import reactive
from textual.widgets import Static

from lobby.core.clock import Clock, remaining
from lobby.tui import timefmt
from lobby.tui.services import console_of


def countdown_text(deadline: datetime | None, clock: Clock, *, expired_word: str = "expired") -> Text:
    """The countdown as styled text; the style follows how urgent it is."""
    if deadline is None:
        return Text("-", style="dim")
    left = remaining(deadline, clock)
    level = timefmt.urgency(left)
    if level == "expired":
        return Text(expired_word, style="bold red")
    style = {"urgent": "bold red", "soon": "bold yellow"}.get(level, "")
    return Text(timefmt.countdown(left), style=style)


class Countdown(Static):
    """``deadline - clock.now()``, repainted whenever :meth:`tick` is called (the app's ticker
    calls it through its ``ticked`` signal). Never a decremented counter."""

    DEFAULT_CSS = """
    Countdown { width: auto; height: 1; }
    """

    deadline: reactive[datetime | None] = reactive(None)

    def __init__(
        self,
        deadline: datetime | None,
        clock: Clock,
        *,
        prefix: str = "",
        expired_word: str = "expired",
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(id=id, classes=classes)
        self.clock = clock
        self.prefix = prefix
        self.expired_word = expired_word
        self.set_reactive(Countdown.deadline, deadline)

    def on_mount(self) -> None:
        console = console_of(self)
        if console is not None:
            console.ticked.subscribe(self, lambda _: self.tick())
        self.tick()

    def watch_deadline(self) -> None:
        self.tick()

    @property
    def expired(self) -> bool:
        return self.deadline is not None and self.clock.now() >= self.deadline

    def tick(self) -> None:
        text = Text(self.prefix) if self.prefix and not self.expired else Text()
        text.append_text(countdown_text(self.deadline, self.clock, expired_word=self.expired_word))
        self.update(text)
        self.set_class(self.expired, "-expired")
