"""Help: what each part of the screen means and every key that works where you are."""

from __future__ import annotations

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Static

ABOUT = (
    ("Awaiting you", "FlexMatch tickets of your players waiting for an answer, and challenges to your teams."),
    ("Open matches", "TeamBattles matches your teams may ask to play. Press / to filter them."),
    ("My requests", "The answers you sent, with their live status."),
    ("Countdowns", "Every row shows the time left to answer; at zero the offer expires."),
)

PALETTE = "Ctrl+P opens the command palette: switch profile, jump to an offer, filter matches."
REMAP = "Keys can be remapped by binding id in the [keymap] table of config.toml."


class HelpScreen(ModalScreen[None]):
    """Lists the bindings of the screen it was opened from, with their ids."""

    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll {
        width: 76; max-width: 100%; height: auto; max-height: 90%;
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

    def _text(self) -> Group:
        about = Table.grid(padding=(0, 2))
        about.add_column(style="bold", no_wrap=True)
        about.add_column()
        for name, meaning in ABOUT:
            about.add_row(name, meaning)
        keys = Table.grid(padding=(0, 2))
        keys.add_column(style="bold", no_wrap=True)
        keys.add_column()
        keys.add_column(style="dim", no_wrap=True)
        seen: set[str] = set()
        for active in self.beneath.active_bindings.values():
            binding = active.binding
            if not binding.description or binding.action in seen:
                continue
            if not (binding.id or "").startswith("lobby.") and not binding.show:
                continue  # a widget's own cursor keys: obvious, and listed by the widget
            seen.add(binding.action)
            keys.add_row(self.app.get_key_display(binding), binding.description, binding.id or "")
        keys.add_row("ctrl+p", "Command palette", "")
        return Group(
            Text.assemble(("lobby", "bold"), ": answer every match offer before its deadline.\n"),
            about,
            Text("\nKeys here", style="bold underline"),
            keys,
            Text(f"\n{PALETTE}\n{REMAP}", style="italic"),
        )

    async def action_dismiss(self, result: None = None) -> None:
        self.dismiss(result)
