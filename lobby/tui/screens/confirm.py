"""A yes/no question in a modal, for answers that cannot be taken back."""

from __future__ import annotations

from datetime import datetime

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from lobby.core.clock import Clock
from lobby.tui.keys import key_for
from lobby.tui.services import console_of
from lobby.tui.widgets.countdown import Countdown


class ConfirmScreen(ModalScreen[bool]):
    """Dismisses with True (confirmed) or False. ``question`` is shown literally. With a
    ``deadline`` (read from ``clock``, the service's), the time left stays in view and the
    question closes itself at the deadline, saying so (``expired`` is the toast's sentence)."""

    DEFAULT_CSS = """
    ConfirmScreen { align: center middle; }
    ConfirmScreen > Vertical {
        width: 64; max-width: 100%; height: auto; border: thick $error; background: $surface;
        padding: 1 2;
    }
    ConfirmScreen #question { width: 1fr; margin-bottom: 1; }
    ConfirmScreen #confirm-countdown { width: 1fr; margin-bottom: 1; }
    ConfirmScreen Horizontal { height: auto; align-horizontal: right; }
    ConfirmScreen Button { margin-left: 2; }
    """

    BINDINGS = [
        Binding("y", "answer(True)", "Yes", id="lobby.confirm.yes"),
        Binding("n,escape", "answer(False)", "No", id="lobby.confirm.no"),
    ]

    def __init__(
        self,
        title: str,
        question: Text,
        *,
        yes: str = "Yes",
        no: str = "No",
        deadline: datetime | None = None,
        clock: Clock | None = None,
        expired: str = "The time to answer is over: nothing was sent.",
    ) -> None:
        super().__init__()
        self.title_text = title
        self.question = question
        self.yes = yes
        self.no = no
        self.deadline = deadline
        self.clock = clock
        self.expired_sentence = expired

    def compose(self) -> ComposeResult:
        with Vertical() as box:
            box.border_title = Content(self.title_text)  # literal, never markup
            yield Static(self.question, id="question")
            if self.deadline is not None and self.clock is not None:
                yield Countdown(self.deadline, self.clock, prefix="Left to answer: ", id="confirm-countdown")
            with Horizontal():
                yield Button(f"{self.no} ({self._key('lobby.confirm.no')})", id="no", variant="default")
                yield Button(f"{self.yes} ({self._key('lobby.confirm.yes')})", id="yes", variant="error")

    def _key(self, binding_id: str) -> str:
        """The key of one of this screen's bindings now (a keymap may have moved it)."""
        console = console_of(self)
        keymap = console.keymap if console is not None else {}
        return key_for(ConfirmScreen, binding_id, keymap)

    def on_mount(self) -> None:
        self.query_one("#no", Button).focus()
        console = console_of(self)
        if console is not None and self.deadline is not None:
            console.ticked.subscribe(self, lambda _: self._check_deadline())

    def _check_deadline(self) -> None:
        if self.deadline is None or self.clock is None or self.clock.now() < self.deadline:
            return
        if self.is_active or self in self.app.screen_stack:
            self.app.notify(self.expired_sentence, title="Too late", severity="warning", markup=False)
            self.dismiss(False)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(event.button.id == "yes")

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)
