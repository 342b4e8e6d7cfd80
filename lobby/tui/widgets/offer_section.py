"""One section of the home screen: a titled table of offers with a live countdown column."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.message import Message
from textual.widgets import DataTable, Static
from textual.widgets.data_table import RowKey

from lobby.tui.store import Entry, Key
from lobby.tui.widgets.backend_bar import same_text_key
from lobby.tui.widgets.tables import OfferTable


@dataclass(frozen=True)
class Column:
    """A column: its label, width, and how to render an entry (always as literal Text)."""

    key: str
    label: str
    render: Callable[[Entry], Text]
    width: int = 10
    #: Re-rendered on every tick (countdowns).
    live: bool = False
    #: Takes the width the other columns leave (at least ``width``).
    flex: bool = False


def row_key(key: Key) -> str:
    return f"{key[0].value}:{key[1]}"


class OfferSection(Vertical, can_focus=False):
    """A bordered, titled table of offers; shows ``placeholder`` when it has none."""

    DEFAULT_CSS = """
    OfferSection { height: 1fr; border: round $panel-lighten-2; border-title-color: $text-muted; padding: 0 0; }
    OfferSection:focus-within { border: round $primary; border-title-color: $primary; border-title-style: bold; }
    OfferSection > DataTable { height: 1fr; background: transparent; scrollbar-size-vertical: 1; overflow-x: hidden; }
    OfferSection > .placeholder { height: 1fr; color: $text-muted; padding: 0 1; display: none; }
    OfferSection.-empty > DataTable { display: none; }
    OfferSection.-empty > .placeholder { display: block; }
    """

    class Chosen(Message):
        """The captain picked an offer (enter or click on its row)."""

        def __init__(self, key: Key) -> None:
            super().__init__()
            self.key = key

    def __init__(
        self,
        title: str,
        columns: Sequence[Column],
        *,
        verb: str = "Answer",
        id: str | None = None,
        empty: bool = True,
    ) -> None:
        """``empty``: whether it will show no rows at first (its placeholder instead): then
        showing what it has first restyles nothing."""
        super().__init__(id=id, classes="-empty" if empty else "")
        self.title = title
        #: What Enter does on a row: "Answer", or "Open" (what was sent).
        self.verb = verb
        self.columns = list(columns)
        self._keys: dict[str, Key] = {}
        self._order: list[str] = []
        self._entries: dict[str, Entry] = {}
        #: What each shown cell looks like (see same_text_key), by row key, in column order: a
        #: cell is written to the table only when it looks different (each write makes the
        #: table render every cell again).
        self._cells: dict[str, list[tuple[object, ...]]] = {}
        self._current_widths: list[int] = []
        self._placeholder: Text | str = ""
        self._placeholder_shown: tuple[object, ...] = ("",)
        self._subtitle = ""
        self._title_shown = ""

    def compose(self) -> ComposeResult:
        table = OfferTable(verb=self.verb)
        # As wide as the screen inside the border, as the home lays it out: then the first
        # resize finds the widths right and rebuilds nothing (see on_resize).
        self._add_columns(table, self._widths(max(self.app.size.width - self.styles.gutter.width, 0) or 80))
        yield table
        yield Static("", classes="placeholder")

    def _widths(self, available: int) -> list[int]:
        """Column widths that fit ``available`` cells: fixed columns as asked, the flexible
        one takes the rest (never a horizontal scrollbar at 80 columns)."""
        padding = 2 * len(self.columns)
        fixed = sum(c.width for c in self.columns if not c.flex)
        spare = max(0, available - padding - fixed - 1)
        return [max(c.width, spare) if c.flex else c.width for c in self.columns]

    def _add_columns(self, table: DataTable[object], widths: list[int]) -> None:
        self._current_widths = widths
        for column, width in zip(self.columns, widths, strict=True):
            # A Text, not a str: a str label is parsed as markup, emoji codes and all (which
            # costs the first frame an import of rich's emoji table).
            table.add_column(Text(column.label), key=column.key, width=width)

    def on_resize(self) -> None:
        widths = self._widths(self.content_size.width)
        if widths == self._current_widths:
            return
        table = self.table
        table.clear(columns=True)
        self._add_columns(table, widths)
        self._order = []
        self.show(list(self._entries.values()), self._placeholder, subtitle=self._subtitle)

    def on_mount(self) -> None:
        if not self._title_shown:  # not shown with rows yet
            self._title_shown = self.title
            self.border_title = self.title

    @property
    def table(self) -> OfferTable:
        return self.query_one(OfferTable)

    @property
    def count(self) -> int:
        return len(self._order)

    def show(self, entries: Sequence[Entry], placeholder: Text | str, *, subtitle: str = "") -> None:
        """Show these entries (in this order), or the placeholder when there are none."""
        self._placeholder = placeholder
        table = self.table
        wanted = [row_key(e.key) for e in entries]
        cursor_key = self._order[table.cursor_row] if self._order and 0 <= table.cursor_row < len(self._order) else None
        self._entries = {row_key(e.key): e for e in entries}
        self._keys = {row_key(e.key): e.key for e in entries}
        if wanted != self._order:
            table.clear()
            self._cells = {}
            for rk in wanted:
                entry = self._entries[rk]
                cells = [c.render(entry) for c in self.columns]
                table.add_row(*cells, key=rk)
                self._cells[rk] = [same_text_key(cell) for cell in cells]
            self._order = wanted
            if cursor_key in wanted and table.moved:  # else it stays on the first row
                table.move_cursor(row=wanted.index(cursor_key), animate=False)
        else:
            self._update_cells(self.columns)
        shown = same_text_key(placeholder)
        if shown != self._placeholder_shown:  # its height is the section's: no new layout
            self._placeholder_shown = shown
            self.query_one(".placeholder", Static).update(placeholder, layout=False)
        self.set_class(not wanted, "-empty")  # one class: one restyle when it changes
        title = f"{self.title} ({len(wanted)})" if wanted else self.title
        if title != self._title_shown:  # each setting repaints the section
            self._title_shown = title
            self.border_title = title
        if subtitle != self._subtitle:  # literal text: a filter value is the network's
            self._subtitle = subtitle
            self.border_subtitle = Content(subtitle)

    def _update_cells(self, columns: Sequence[Column]) -> None:
        """Write the cells of ``columns`` that look different from what the table shows."""
        table = self.table
        where = {column.key: i for i, column in enumerate(self.columns)}
        for rk in self._order:
            entry = self._entries[rk]
            shown = self._cells[rk]
            for column in columns:
                cell = column.render(entry)
                looks = same_text_key(cell)
                i = where[column.key]
                if looks != shown[i]:
                    shown[i] = looks
                    table.update_cell(rk, column.key, cell)

    def tick(self) -> None:
        live = [c for c in self.columns if c.live]
        if live and self._order:
            self._update_cells(live)

    def focus_table(self) -> None:
        if self._order:
            self.table.focus()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        key = self._keys.get(str(event.row_key.value)) if isinstance(event.row_key, RowKey) else None
        if key is not None:
            self.post_message(self.Chosen(key))

    def highlighted(self) -> Key | None:
        table = self.table
        if not self._order or not (0 <= table.cursor_row < len(self._order)):
            return None
        return self._keys.get(self._order[table.cursor_row])
