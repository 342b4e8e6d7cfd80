"""The console's tables and lists: the same keys on every one of them.

Up/down and j/k move one row, PageUp/PageDown a page, Home/End to the first and last row; Enter
chooses (on the home tables it answers the offer, or opens an answered one). Each is a thin
subclass of a Textual widget that only adds these keys, with ids a keymap can remap.
"""

from __future__ import annotations

from typing import ClassVar

from textual import events
from textual.binding import Binding, BindingType
from textual.widgets import DataTable, SelectionList

#: j/k on every table and list, next to the arrows.
ROW_KEYS: list[BindingType] = [
    Binding("j", "cursor_down", "Down", show=False, id="lobby.table.down"),
    Binding("k", "cursor_up", "Up", show=False, id="lobby.table.up"),
]


class OfferTable(DataTable[object]):
    """A home section's table. Enter answers the highlighted offer (``verb`` "Answer"), or
    opens what was sent (``verb`` "Open"), and the footer says which."""

    HELP_TITLE: ClassVar[str] = "On a table of offers"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "choose('Answer')", "Answer", id="lobby.home.answer"),
        Binding("enter", "choose('Open')", "Open", id="lobby.home.open"),
        Binding("home", "scroll_top", "First row", show=False, id="lobby.table.first"),
        Binding("end", "scroll_bottom", "Last row", show=False, id="lobby.table.last"),
        Binding("pageup", "page_up", "Page up", show=False, id="lobby.table.page_up"),
        Binding("pagedown", "page_down", "Page down", show=False, id="lobby.table.page_down"),
        *ROW_KEYS,
    ]

    def __init__(self, *, verb: str = "Answer") -> None:
        super().__init__(cursor_type="row", zebra_stripes=False, cell_padding=1)
        self.verb = verb
        #: The person has moved the cursor (keys or mouse): from then on it stays on its offer
        #: when rows come and go; until then it stays on the first row, the most urgent.
        self.moved = False

    def action_cursor_up(self) -> None:
        self.moved = True
        super().action_cursor_up()

    def action_cursor_down(self) -> None:
        self.moved = True
        super().action_cursor_down()

    def action_page_up(self) -> None:
        self.moved = True
        super().action_page_up()

    def action_page_down(self) -> None:
        self.moved = True
        super().action_page_down()

    def action_scroll_top(self) -> None:
        self.moved = True
        super().action_scroll_top()

    def action_scroll_bottom(self) -> None:
        self.moved = True
        super().action_scroll_bottom()

    async def _on_click(self, event: events.Click) -> None:
        self.moved = True
        await super()._on_click(event)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "choose":
            # Two Enter bindings, one per verb: the footer shows the one this table means.
            if parameters != (self.verb,):
                return False
            return True if self.row_count else None
        return True

    def action_choose(self, verb: str) -> None:
        self.action_select_cursor()


class PickList(SelectionList[str]):
    """A list of choices (players to answer for, maps): space or Enter toggles one."""

    HELP_TITLE: ClassVar[str] = "On a list of choices"

    BINDINGS: ClassVar[list[BindingType]] = [*ROW_KEYS]
