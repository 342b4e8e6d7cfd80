"""Help: what each part of the screen means and every key of the screen in front, as bound now.

The keys are read, never written here: those that work where the focus is come from the screen's
active bindings (with the keymap applied, as the footer shows them), each other part of the
screen that takes the focus lists its own bindings under its name (with the keymap's keys).
"""

from __future__ import annotations

from collections.abc import Iterable

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.dom import DOMNode
from textual.screen import ModalScreen, Screen
from textual.widget import Widget
from textual.widgets import Static

from lobby.tui.keys import key_name, keys_text, merged
from lobby.tui.services import console_of

ABOUT = (
    ("Awaiting you", "FlexMatch tickets of your players waiting for an answer, and challenges to your teams."),
    ("Open matches", "TeamBattles matches your teams may ask to play; they can be filtered."),
    ("My requests", "The answers you sent, with their live status."),
    ("Countdowns", "Every row shows the time left to answer, by the service's clock; at zero the offer expires."),
)

PALETTE = "The command palette switches profile, jumps to an offer and filters matches."
REMAP = "Keys can be remapped by binding id (the last column) in the [keymap] table of config.toml."


class HelpScreen(ModalScreen[None]):
    """Lists the bindings of the screen it was opened from, with their ids."""

    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll {
        width: 96; max-width: 100%; height: auto; max-height: 90%;
        border: thick $primary; background: $surface; padding: 0 1;
    }
    HelpScreen > VerticalScroll > Static { width: 1fr; }
    """

    BINDINGS = [
        Binding("escape,q,f1,question_mark", "dismiss", "Close", id="lobby.help.close"),
    ]

    def __init__(self, beneath: Screen[object]) -> None:
        super().__init__()
        self.beneath = beneath

    def compose(self) -> ComposeResult:
        with VerticalScroll() as scroll:
            scroll.border_title = "Help"
            scroll.border_subtitle = "Esc closes"
            yield Static(self._text())

    @property
    def _keymap(self) -> dict[str, str]:
        console = console_of(self)
        return console.keymap if console is not None else {}

    def rows_here(self) -> list[tuple[str, str, str]]:
        """(keys, what they do, binding id) for every key that works where the focus is now, as
        the footer sees them; a key whose action cannot be done right now says so."""
        grouped: dict[tuple[int, str, str, str | None], tuple[list[str], Binding, bool]] = {}
        for key, active in self.beneath.active_bindings.items():
            binding = active.binding
            if not binding.description:
                continue
            # One row per binding: the keys a keymap entry moves together share a row.
            slot = (id(active.node), binding.action, binding.description, binding.id)
            keys, _, enabled = grouped.get(slot, ([], binding, False))
            keys.append(key_name(key) if not binding.key_display else binding.key_display)
            grouped[slot] = (keys, binding, enabled or active.enabled)
        rows = []
        for keys, binding, enabled in grouped.values():
            what = binding.description if enabled else f"{binding.description} (not now)"
            rows.append((" / ".join(dict.fromkeys(keys)), what, binding.id or ""))
        return rows

    def elsewhere(self) -> list[tuple[str, list[tuple[str, str, str]]]]:
        """The other parts of the screen that take the focus, each with its own keys."""
        focused = self.beneath.focused
        chain: set[DOMNode] = set(focused.ancestors_with_self) if focused is not None else set()
        seen: set[type[DOMNode]] = {type(node) for node in chain}
        found = []
        for widget in self.beneath.query(Widget):
            owner = type(widget)
            title = getattr(owner, "HELP_TITLE", None)  # a class constant of the console's widgets
            if not isinstance(title, str) or owner in seen or widget in chain:
                continue
            seen.add(owner)
            found.append((title, self._rows(merged(owner))))
        return found

    def _rows(self, bindings: Iterable[Binding]) -> list[tuple[str, str, str]]:
        return [(keys_text(b, self._keymap), b.description, b.id or "") for b in bindings if b.description]

    def _text(self) -> Group:
        about = Table.grid(padding=(0, 2))
        about.add_column(style="bold", no_wrap=True)
        about.add_column()
        for name, meaning in ABOUT:
            about.add_row(name, meaning)
        parts: list[Text | Table] = [
            Text.assemble(("lobby", "bold"), ": answer every match offer before its deadline.\n"),
            Text("Keys here", style="bold underline"),
            _keys_table(self.rows_here()),
        ]
        for title, rows in self.elsewhere():
            parts += [Text(f"\n{title}", style="bold underline"), _keys_table(rows)]
        parts += [Text("\nWhat you see", style="bold underline"), about]
        parts.append(Text(f"\n{PALETTE}\n{REMAP}", style="italic"))
        return Group(*parts)

    async def action_dismiss(self, result: None = None) -> None:
        self.dismiss(result)


def _keys_table(rows: Iterable[tuple[str, str, str]]) -> Table:
    """The console's own bindings (they have ids) first, then the widgets' built-in keys."""
    keys = Table.grid(padding=(0, 2))
    keys.add_column(style="bold", no_wrap=True)
    keys.add_column()
    keys.add_column(style="dim", no_wrap=True)
    for row in sorted(rows, key=lambda row: not row[2]):
        keys.add_row(*row)
    return keys
