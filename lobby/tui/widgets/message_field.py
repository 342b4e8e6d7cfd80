"""A message with its length limit shown as you type."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.message import Message
from textual.widgets import Input, Static

from lobby.tui.widgets.form_input import FormInput


class MessageField(Horizontal):
    """An input and a "12/500" counter that turns red past ``limit``."""

    DEFAULT_CSS = """
    MessageField { height: auto; }
    MessageField > Input { width: 1fr; }
    MessageField > .counter { width: 10; content-align: right middle; height: 1; color: $text-muted; }
    """

    class Changed(Message):
        def __init__(self, field: MessageField) -> None:
            super().__init__()
            self.field = field

        @property
        def control(self) -> MessageField:
            return self.field

    def __init__(self, limit: int, *, placeholder: str = "", id: str | None = None) -> None:
        super().__init__(id=id)
        self.limit = limit
        self.placeholder = placeholder

    def compose(self) -> ComposeResult:
        yield FormInput(placeholder=self.placeholder, compact=True)
        yield Static(self._counter(0), classes="counter")

    @property
    def value(self) -> str:
        return self.query_one(Input).value

    @value.setter
    def value(self, text: str) -> None:
        self.query_one(Input).value = text

    def _counter(self, length: int) -> Text:
        style = "bold red" if length > self.limit else ("yellow" if length > self.limit * 0.9 else "")
        return Text(f"{length}/{self.limit}", style=style)

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        self.query_one(".counter", Static).update(self._counter(len(event.value)))
        self.post_message(self.Changed(self))
