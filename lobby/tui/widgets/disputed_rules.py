"""Disputed rules: name = value pairs the team wants to agree on before playing."""

from __future__ import annotations

from typing import Any, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Button, Input, OptionList
from textual.widgets.option_list import Option

from lobby.core.answers import parse_value, show_value
from lobby.tui.safe import clean
from lobby.tui.widgets.form_input import FormInput
from lobby.tui.widgets.tables import ROW_KEYS

class RuleList(OptionList):
    HELP_TITLE: ClassVar[str] = "On the disputed rules"

    BINDINGS: ClassVar[list[BindingType]] = [
        *ROW_KEYS,
        Binding("delete,backspace", "remove", "Remove rule", id="lobby.rules.remove"),
    ]

    def action_remove(self) -> None:
        editor = self.parent
        if isinstance(editor, DisputedRules) and self.highlighted is not None:
            option_id = self.get_option_at_index(self.highlighted).id
            if option_id is not None:
                editor.remove_rule(option_id)


class DisputedRules(Vertical):
    """Add a rule with a name and a value (enter in the value field, or Add); remove the
    highlighted one with delete."""

    DEFAULT_CSS = """
    DisputedRules { height: auto; }
    DisputedRules > Horizontal { height: auto; }
    DisputedRules #rule-name { width: 1fr; margin-right: 1; }
    DisputedRules #rule-value { width: 1fr; margin-right: 1; }
    DisputedRules RuleList { height: auto; max-height: 5; border: none; padding: 0 0 0 1; background: $surface; }
    DisputedRules RuleList:focus { border: none; border-left: outer $primary; padding: 0; }
    DisputedRules RuleList.-empty { display: none; }
    DisputedRules RuleList { text-wrap: nowrap; text-overflow: ellipsis; }
    """

    class Changed(Message):
        def __init__(self, editor: DisputedRules) -> None:
            super().__init__()
            self.editor = editor

        @property
        def control(self) -> DisputedRules:
            return self.editor

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.rules: dict[str, Any] = {}

    def compose(self) -> ComposeResult:
        with Horizontal():
            yield FormInput(placeholder="rule, e.g. overtime", id="rule-name", compact=True)
            yield FormInput(placeholder="value: text, 3, true, [a, b]", id="rule-value", compact=True)
            yield Button("Add", id="rule-add", compact=True)
        yield RuleList(classes="-empty")

    def _redraw(self) -> None:
        rules = self.query_one(RuleList)
        options = []
        for name, value in self.rules.items():
            text = Text(no_wrap=True, overflow="ellipsis")
            text.append(clean(name), style="bold")
            text.append(" = ")
            text.append(clean(show_value(value)))
            options.append(Option(text, id=name))
        rules.set_options(options)
        rules.set_class(not self.rules, "-empty")
        self.post_message(self.Changed(self))

    def add(self, name: str, raw_value: str) -> None:
        self.rules[name] = parse_value(raw_value)
        self._redraw()

    @property
    def typed(self) -> tuple[str, str]:
        """The name and value typed but not added yet."""
        return self.query_one("#rule-name", Input).value, self.query_one("#rule-value", Input).value

    def restore(self, rules: dict[str, Any], typed: tuple[str, str] = ("", "")) -> None:
        """The rules of a kept draft, and the rule it had typed but not added."""
        self.rules = dict(rules)
        self.query_one("#rule-name", Input).value, self.query_one("#rule-value", Input).value = typed
        self._redraw()

    def remove_rule(self, name: str) -> None:
        self.rules.pop(name, None)
        self._redraw()

    def _add_from_inputs(self) -> None:
        name_input = self.query_one("#rule-name", Input)
        value_input = self.query_one("#rule-value", Input)
        name = name_input.value
        if not name and not value_input.value:
            return
        # Blank or overlong names are kept: the shared rules explain what is wrong with them.
        self.add(name, value_input.value)
        name_input.value = ""
        value_input.value = ""
        name_input.focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        """What is typed belongs to the draft too (kept as it is typed, like the message)."""
        event.stop()
        self.post_message(self.Changed(self))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if event.input.id == "rule-name":
            self.query_one("#rule-value", Input).focus()
        else:
            self._add_from_inputs()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "rule-add":
            event.stop()
            self._add_from_inputs()
