"""The messages the feed could not read: id, reason, when; the counts by reason above them.

Nothing here comes from this program: ids and reasons may carry text from the network, and
render literally. Escape (or ``x``) closes the view.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Static

from lobby.moderation.rejects import RejectLog
from lobby.tui.moderator.format import clock_time, count
from lobby.tui.safe import clean

#: Columns of an id and a reason, in cells (longer text is cut with "…").
ID_CELLS = 40
REASON_CELLS = 60


def summary(rejects: RejectLog) -> str:
    """"3 rejected: nested too deeply 2 · not an event (missing or wrong fields) 1"."""
    if not rejects.count:
        return "No message was rejected."
    parts = " · ".join(f"{reason} {count(n)}" for reason, n in rejects.reasons.most_common())
    return f"{count(rejects.count)} rejected: {parts}"


class RejectedView(ModalScreen[None]):
    """Every message the feed set aside, newest first (the latest few hundred)."""

    DEFAULT_CSS = """
    RejectedView { align: center middle; }
    RejectedView > Vertical {
        width: 90%;
        height: 80%;
        border: round $warning;
        background: $panel;
        padding: 0 1;
    }
    RejectedView #rejected-title { text-style: bold; }
    RejectedView #rejected-notes { color: $warning; }
    RejectedView #rejected-help { color: $foreground 60%; }
    RejectedView DataTable { height: 1fr; background: $panel; }
    """

    BINDINGS = [Binding("escape,x,q", "back", "Back", id="lobby.moderator.rejected.back")]

    def __init__(self, rejects: RejectLog) -> None:
        super().__init__()
        self.rejects = rejects

    def compose(self) -> ComposeResult:
        notes = " ".join(clean(n) for n in self.rejects.notes)
        with Vertical():
            yield Static(Text(clean(summary(self.rejects))), id="rejected-title")
            yield Static(Text(notes), id="rejected-notes")
            yield DataTable[Text](id="rejected-table", cursor_type="row", zebra_stripes=True)
            yield Static(
                "Rejected messages are not applied and not deleted. escape: back", id="rejected-help"
            )

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_column("seen", width=8)
        table.add_column("message", width=ID_CELLS)
        table.add_column("reason", width=REASON_CELLS)
        for entry in reversed(self.rejects.latest):
            table.add_row(
                Text(clock_time(entry.seen)),
                Text(clean(entry.id), no_wrap=True, overflow="ellipsis"),
                Text(clean(entry.reason), no_wrap=True, overflow="ellipsis"),
            )
        table.focus()

    def action_back(self) -> None:
        self.dismiss(None)
