"""The answer screens' large countdown: big digits and a bar of the time that is left."""

from __future__ import annotations

from datetime import datetime

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Digits, Label, ProgressBar

from lobby.core.clock import Clock, remaining
from lobby.tui import timefmt
from lobby.tui.services import console_of


class BigCountdown(Vertical):
    """Time left until ``deadline`` as large digits over a bar that empties as it runs out.

    ``window`` is the whole answering time in seconds (the bar's full length). Everything is
    computed from the injected clock on each :meth:`tick`.
    """

    DEFAULT_CSS = """
    BigCountdown { height: auto; width: 30; align-horizontal: center; }
    BigCountdown > Digits { width: 1fr; text-align: center; }
    BigCountdown > ProgressBar { width: 1fr; align-horizontal: center; }
    BigCountdown > ProgressBar > Bar { width: 24; }
    BigCountdown > Label { width: 1fr; content-align-horizontal: center; color: $text-muted; }
    BigCountdown.-urgent > Digits { color: $error; }
    BigCountdown.-soon > Digits { color: $warning; }
    BigCountdown.-expired > Digits { color: $error; text-style: bold; }
    BigCountdown.-expired > Label { color: $error; text-style: bold; }
    """

    def __init__(
        self,
        deadline: datetime | None,
        clock: Clock,
        window: float | None,
        *,
        caption: str = "left to answer",
        id: str | None = None,
    ) -> None:
        super().__init__(id=id)
        self.clock = clock
        self.deadline = deadline
        self.window = window
        self.caption = caption

    def compose(self) -> ComposeResult:
        yield Digits("-:--")
        yield ProgressBar(total=100, show_eta=False, show_percentage=False)
        yield Label(self.caption)

    def on_mount(self) -> None:
        console = console_of(self)
        if console is not None:
            console.ticked.subscribe(self, lambda _: self.tick())
        self.tick()

    def set_deadline(self, deadline: datetime | None, window: float | None) -> None:
        self.deadline, self.window = deadline, window
        self.tick()

    @property
    def expired(self) -> bool:
        return self.deadline is not None and self.clock.now() >= self.deadline

    def tick(self) -> None:
        digits = self.query_one(Digits)
        bar = self.query_one(ProgressBar)
        label = self.query_one(Label)
        if self.deadline is None:
            digits.update("-:--")
            bar.update(total=100, progress=0)
            label.update(self.caption)
            return
        left = remaining(self.deadline, self.clock)
        digits.update(timefmt.countdown(left))
        window = self.window if self.window and self.window > 0 else max(left.total_seconds(), 1.0)
        bar.update(total=window, progress=min(window, left.total_seconds()))
        level = timefmt.urgency(left)
        for name in ("urgent", "soon", "expired"):
            self.set_class(level == name, f"-{name}")
        label.update("expired: no more answers" if level == "expired" else self.caption)
