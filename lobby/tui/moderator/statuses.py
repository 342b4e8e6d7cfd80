"""Status toggles: which statuses the table shows. Space or enter toggles one; escape closes."""

from __future__ import annotations

from collections.abc import Mapping

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import SelectionList, Static
from textual.widgets.selection_list import Selection

from lobby.moderation.board import FINAL_STATUSES, STATUS_ORDER
from lobby.tui.moderator.format import HEADER_WORDS, count


class StatusPicker(ModalScreen[frozenset[str]]):
    """Dismissed with the set of hidden statuses."""

    DEFAULT_CSS = """
    StatusPicker { align: center middle; }
    StatusPicker > Vertical {
        width: 44;
        height: auto;
        max-height: 90%;
        border: round $primary;
        background: $panel;
        padding: 0 1;
    }
    StatusPicker SelectionList { height: auto; max-height: 16; margin: 1 0; background: $panel; }
    StatusPicker #status-picker-title { text-style: bold; }
    StatusPicker #status-picker-help { color: $foreground 60%; }
    """

    BINDINGS = [
        Binding("escape,t", "close", "Done", id="lobby.moderator.statuses.done"),
    ]

    def __init__(self, hidden: frozenset[str], counts: Mapping[str, int]) -> None:
        super().__init__()
        self.hidden = frozenset(hidden)
        self.counts = dict(counts)

    def compose(self) -> ComposeResult:
        options = []
        for status in STATUS_ORDER:
            word = HEADER_WORDS.get(status, status.lower())
            final = " (final)" if status in FINAL_STATUSES else ""
            label = f"{word}{final} · {count(self.counts.get(status, 0))}"
            options.append(Selection(label, status, status not in self.hidden, id=f"status-{status}"))
        with Vertical():
            yield Static("Show statuses", id="status-picker-title")
            yield SelectionList[str](*options, id="status-picker", compact=True)
            yield Static("space: show or hide · escape: done", id="status-picker-help")

    def on_mount(self) -> None:
        self.query_one(SelectionList).focus()

    def _hidden(self) -> frozenset[str]:
        shown = set(self.query_one(SelectionList).selected)
        return frozenset(s for s in STATUS_ORDER if s not in shown)

    def on_selection_list_selected_changed(self, event: SelectionList.SelectedChanged[str]) -> None:
        event.stop()
        self.hidden = self._hidden()

    def action_close(self) -> None:
        self.dismiss(self._hidden())
