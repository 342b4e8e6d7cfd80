"""The moderator's table: a line-API widget that draws only the rows on screen.

Ten thousand live rows cost what forty visible ones cost: the rows live in a
:class:`~lobby.moderation.view.TableModel`, the widget asks it for the rows at the lines
being painted, and nothing is laid out per row. The screen calls :meth:`ModerationTable.sync`
once per frame after the model caught up with the events, so a burst of events is one repaint.

The header line stays put while the rows scroll. The cursor follows its row when the order
changes. Every text from the network passes :func:`lobby.tui.safe.clean` and is drawn as plain
segments, never parsed as markup.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding
from textual.geometry import Region, Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.scrollbar import ScrollBar
from textual.strip import Strip
from textual.style import Style as TextualStyle
from textual.widget import Widget

from lobby.core.clock import Clock
from lobby.moderation.rows import Key, Kind, Row
from lobby.moderation.view import COLUMNS, Column, TableModel
from lobby.tui.moderator.format import STATUS_TONE, duration, fit, fit_right, status_label
from lobby.tui.safe import clean

#: Column titles.
TITLES = {
    Column.ID: "ID",
    Column.GROUP: "CONFIG/GAME",
    Column.REGION: "REGION",
    Column.STATUS: "STATUS",
    Column.PROGRESS: "ACCEPTED",
    Column.DEADLINE: "LEFT",
    Column.IN_STATUS: "IN STATUS",
    Column.AGE: "AGE",
    Column.PLAYERS: "PLAYERS/TEAMS",
}
#: Fixed widths; ID, GROUP and PLAYERS share what is left.
FIXED = {
    Column.STATUS: 11,
    Column.PROGRESS: 8,
    Column.DEADLINE: 7,
    Column.IN_STATUS: 9,
    Column.AGE: 7,
}
RIGHT = frozenset({Column.PROGRESS, Column.DEADLINE, Column.IN_STATUS, Column.AGE})
#: Below this much room for ID + GROUP, the players column is not shown.
PLAYERS_FROM = 44
#: The region column, shown once rows come from more than one region ("ap-southeast-2").
REGION_WIDTH = 14


#: Rows from the top a new order must show at once, at least (see ``TableModel.head_rows``).
HEAD_ROWS = 128

#: Component styles that paint a whole line, background included.
LINE_STYLES = frozenset({"header", "sorted", "cursor"})


def text_style(widget: Widget, component: str, with_background: bool) -> Style:
    """A component's style; without its background unless asked, so that a cell's colour never
    hides the line's background (or the cursor's)."""
    full = widget.get_component_rich_style(component)
    if with_background:
        return full
    return Style(color=full.color, bold=full.bold, italic=full.italic, underline=full.underline, strike=full.strike)


class _Cells(NamedTuple):
    """What a row shows outside its time columns, as drawn (a tuple: two rows showing the
    same compare equal, whatever changed in them that the table does not show)."""

    kind: str
    id: str
    group: str
    region: str
    status: str
    tone: str
    progress: str
    players: str


@dataclass(slots=True)
class _Parts:
    """A row's line without its time columns (see :meth:`ModerationTable._parts`)."""

    #: What the segments were made from: the row's cells, the layout, the cursor, the style.
    key: tuple[object, ...]
    segments: list[Segment]
    #: (index in ``segments``, time column, its width), in order.
    slots: tuple[tuple[int, Column, int], ...]
    #: The cells the segments take.
    length: int
    #: The style of the padding to the widget's width.
    pad: Style | None


def layout(width: int, *, region: bool = False) -> list[tuple[Column | None, int]]:
    """(column, width) from left to right; None is the one-cell kind marker. ``region`` adds
    the region column after the configuration."""
    gaps = len(COLUMNS) - (0 if region else 1)  # one space after the marker and between columns
    room = width - 1 - sum(FIXED.values()) - gaps - (REGION_WIDTH if region else 0)
    players = 0
    if room - 1 >= PLAYERS_FROM + 8:
        players = max(8, (room - 1) * 2 // 5)
        room -= players + 1
    room = max(room, 2)
    ident = max(1, min(room // 2, 20))
    group = max(1, room - ident)
    out: list[tuple[Column | None, int]] = [(None, 1), (Column.ID, ident), (Column.GROUP, group)]
    if region:
        out.append((Column.REGION, REGION_WIDTH))
    out += [(c, FIXED[c]) for c in (Column.STATUS, Column.PROGRESS, Column.DEADLINE, Column.IN_STATUS, Column.AGE)]
    if players:
        out.append((Column.PLAYERS, players))
    return out


def who(row: Row) -> str:
    """Players and teams, as one line."""
    if row.kind == Kind.MATCH:
        teams = " vs ".join(row.teams)
        people = ", ".join(row.player_list())
        return f"{teams} · {people}" if teams and people else teams or people
    players = ", ".join(row.players)
    if row.teams:
        return f"{players} ({', '.join(row.teams)})"
    return players


class ModerationTable(ScrollView, can_focus=True):
    """Every row of the model; only the visible lines are ever drawn."""

    ALLOW_MAXIMIZE = False

    COMPONENT_CLASSES = {
        "moderation-table--header",
        "moderation-table--sorted",
        "moderation-table--cursor",
        "moderation-table--dim",
        "moderation-table--empty",
        "moderation-table--waiting",
        "moderation-table--accepting",
        "moderation-table--placing",
        "moderation-table--done",
        "moderation-table--failed",
        "moderation-table--urgent",
        "moderation-table--soon",
    }

    DEFAULT_CSS = """
    ModerationTable {
        height: 1fr;
        overflow-x: hidden;
        overflow-y: auto;
        scrollbar-size-vertical: 1;
        background: $surface;
    }
    ModerationTable > .moderation-table--header { text-style: bold; background: $panel; }
    ModerationTable > .moderation-table--sorted { text-style: bold; color: $accent; background: $panel; }
    ModerationTable > .moderation-table--cursor { background: $primary 25%; }
    ModerationTable:focus > .moderation-table--cursor { background: $primary 45%; }
    ModerationTable > .moderation-table--dim { color: $foreground 55%; }
    ModerationTable > .moderation-table--empty { color: $foreground 70%; text-style: italic; }
    ModerationTable > .moderation-table--waiting { color: $foreground 80%; }
    ModerationTable > .moderation-table--accepting { color: $accent; text-style: bold; }
    ModerationTable > .moderation-table--placing { color: $primary; }
    ModerationTable > .moderation-table--done { color: $success; }
    ModerationTable > .moderation-table--failed { color: $error; }
    ModerationTable > .moderation-table--urgent { color: $error; text-style: bold; }
    ModerationTable > .moderation-table--soon { color: $warning; }
    """

    BINDINGS = [
        Binding("up,k", "cursor(-1)", "Up", show=False),
        Binding("down,j", "cursor(1)", "Down", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("home", "jump(0)", "First", show=False),
        Binding("end", "jump(-1)", "Last", show=False),
        Binding("enter", "open", "Timeline", id="lobby.moderator.open"),
    ]

    class Opened(Message):
        """The moderator asked for one row's timeline."""

        def __init__(self, key: Key) -> None:
            super().__init__()
            self.key = key

    class SortChosen(Message):
        """A column title was clicked."""

        def __init__(self, column: Column) -> None:
            super().__init__()
            self.column = column

    def __init__(self, model: TableModel, clock: Clock, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.model = model
        self.clock = clock
        self.cursor = 0
        self.cursor_key: Key | None = None
        #: False while the cursor's row is further down a new order than the model knows yet.
        self._cursor_known = True
        #: What to say when there are no rows (set by the screen).
        self.empty_text = "The lobby is empty: no FlexMatch ticket or TeamBattles match is live."
        #: Whether the region column shows (set by the screen: rows of several regions).
        self.show_region = False
        #: Per row: the version its cells were made from, and the cells.
        self._cells: dict[Key, tuple[int, _Cells]] = {}
        #: The last line drawn of each row, with what it was drawn from.
        self._strips: dict[Key, tuple[tuple[object, ...], Strip]] = {}
        self._layout_for: tuple[int, bool, list[tuple[Column | None, int]]] = (-1, False, [])
        self._revision = -1
        self._now = 0.0
        self._styles: dict[str, Style] = {}
        self._base = Style()
        #: Per row, its line without the time columns (see :meth:`_parts`).
        self._row_parts: dict[Key, _Parts] = {}
        #: A cell's style as drawn, by (its own style, on the cursor's line, the widget's style).
        self._dressed: dict[tuple[Style | None, bool, Style], Style | None] = {}
        #: The header line and the lines without a row, by what they show.
        self._fixed_lines: dict[tuple[object, ...], Strip] = {}
        #: What one paint draws from (see :meth:`_paint_facts`), set while it lasts.
        self._paint: tuple[int, int, int, list[Row]] | None = None

    # --- keeping up with the model ------------------------------------------------------------

    def sync(self) -> None:
        """The model changed: resize, keep the cursor on its row, repaint what is visible.

        While the model still makes a new order, the cursor's row may be further down than
        the rows known yet: it is found once the order is whole, or when a key moves the
        cursor (meanwhile it is not on screen, where every row is known)."""
        model = self.model
        total = len(model)
        self._cursor_known = True
        if self.cursor_key is not None:
            self._cursor_known, found = model.index_if_known(self.cursor_key)
            if found is not None:
                self.cursor = found
        if self._cursor_known:
            self._clamp_cursor(total)
        # A new order's first rows, known at once, reach down to what the table shows.
        model.head_rows = max(HEAD_ROWS, int(self.scroll_offset.y) + 2 * self.size.height)
        width = self.scrollable_content_region.width or self.size.width
        virtual = Size(width, total + 1)
        if virtual != self.virtual_size:
            self._resize_rows(virtual)
        if len(self._cells) > 4 * max(total, 256):
            self._cells.clear()
        if len(self._strips) > 4 * 256:
            self._strips.clear()
        self._revision = self.model.revision
        self.refresh()

    def _resize_rows(self, virtual: Size) -> None:
        """Take ``virtual`` as the table's scrollable size. Under load the number of rows
        changes nearly every frame; when only the scrollbar's thumb moves with it (the rows
        overflowed the table before and still do, at the same width), the scrollbar is updated
        in place instead of laying the whole screen out again (the ``virtual_size`` reactive
        asks for a layout, ~20 ms at 120x40)."""
        old = self.virtual_size
        height = self.size.height
        if self.is_mounted and old.width == virtual.width and min(old.height, virtual.height) > height + 1:
            self.set_reactive(Widget.virtual_size, virtual)
            if self.scroll_y <= self.max_scroll_y and self._same_scrollbar(old.height, virtual.height):
                # Thousands of rows: a few more or fewer seldom move the thumb by a cell; the
                # scrollbar takes the new size without being drawn again.
                self.vertical_scrollbar.set_reactive(ScrollBar.window_virtual_size, virtual.height)
                return
            self._scroll_update(virtual)
            return
        self.virtual_size = virtual

    def _same_scrollbar(self, old: int, new: int) -> bool:
        """Whether the vertical scrollbar draws the same over ``new`` rows as over ``old``."""
        bar = self.vertical_scrollbar
        if not bar.display or bar.window_virtual_size != old:
            return False

        def picture(rows: int) -> list[Segment]:
            window = bar.window_size if bar.window_size < rows else 0
            drawn = bar.renderer.render_bar(
                size=bar.size.height, virtual_size=rows, window_size=window, position=bar.position, thickness=bar.thickness
            )
            return drawn.segments

        return picture(old) == picture(new)

    def _clamp_cursor(self, total: int) -> None:
        self.cursor = max(0, min(self.cursor, total - 1)) if total else 0
        self.cursor_key = self.model.row_at(self.cursor).key if total else None

    def _settle_cursor(self) -> None:
        """Find the cursor's row now if the model had not placed it yet."""
        if self._cursor_known:
            return
        if self.cursor_key is not None:
            found = self.model.index_of(self.cursor_key)
            if found is not None:
                self.cursor = found
        self._cursor_known = True
        self._clamp_cursor(len(self.model))

    def on_resize(self) -> None:
        self.sync()

    @property
    def row_count(self) -> int:
        return len(self.model)

    @property
    def page_size(self) -> int:
        return max(1, self.scrollable_content_region.height - 1)

    def _set_cursor(self, index: int) -> None:
        total = len(self.model)
        if not total:
            return
        index = max(0, min(index, total - 1))
        self.cursor = index
        self.cursor_key = self.model.row_at(index).key
        self._cursor_known = True
        top = int(self.scroll_offset.y)
        if index < top:
            self.scroll_to(y=index, animate=False, immediate=True)
        elif index >= top + self.page_size:
            self.scroll_to(y=index - self.page_size + 1, animate=False, immediate=True)
        self.refresh()

    def action_cursor(self, step: int) -> None:
        self._settle_cursor()
        self._set_cursor(self.cursor + step)

    def action_page(self, step: int) -> None:
        self._settle_cursor()
        self._set_cursor(self.cursor + step * self.page_size)

    def action_jump(self, where: int) -> None:
        self._set_cursor(0 if where == 0 else len(self.model) - 1)

    def action_open(self) -> None:
        if self.cursor_key is not None and len(self.model):
            self.post_message(self.Opened(self.cursor_key))

    def on_click(self, event: events.Click) -> None:
        if event.y == 0:
            column = self._column_at(event.x)
            if column is not None:
                self.post_message(self.SortChosen(column))
            return
        index = int(self.scroll_offset.y) + event.y - 1
        if 0 <= index < len(self.model):
            self._settle_cursor()
            again = index == self.cursor
            self._set_cursor(index)
            if again and event.chain >= 2:
                self.action_open()

    def _column_at(self, x: int) -> Column | None:
        start = 0
        for column, width in self._columns():
            if start <= x < start + width + 1:
                return column
            start += width + 1
        return None

    # --- drawing ------------------------------------------------------------------------------

    def _columns(self, width: int | None = None) -> list[tuple[Column | None, int]]:
        """The layout at the table's width (``width`` when the caller knows it)."""
        if width is None:
            width = self.scrollable_content_region.width or self.size.width
        if self._layout_for[:2] != (width, self.show_region):
            self._layout_for = (width, self.show_region, layout(width, region=self.show_region))
        return self._layout_for[2]

    def _static(self, row: Row) -> _Cells:
        cached = self._cells.get(row.key)
        if cached is not None and cached[0] == row.version:
            return cached[1]
        cells = _Cells(
            kind="F" if row.kind == Kind.TICKET else "T",
            id=clean(row.id),
            group=clean(row.group) or "-",
            region=clean(row.region) or "-",
            status=status_label(row.status),
            tone=STATUS_TONE.get(row.status, "waiting"),
            progress=f"{row.accepted}/{row.total}" if row.total else "-",
            players=clean(who(row)) or "-",
        )
        self._cells[row.key] = (row.version, cells)
        return cells

    def _style(self, name: str) -> Style:
        style = self._styles.get(name)
        if style is None:
            style = self._styles[name] = text_style(self, f"moderation-table--{name}", name in LINE_STYLES)
        return style

    def notify_style_update(self) -> None:
        self._styles.clear()
        self._forget_drawings()
        super().notify_style_update()

    def _forget_drawings(self) -> None:
        self._strips.clear()
        self._row_parts.clear()
        self._dressed.clear()
        self._fixed_lines.clear()

    def render_lines(self, crop: Region) -> list[Strip]:
        """The lines in ``crop``. A line that shows what it showed at the last paint is the very
        same :class:`Strip` as then, so what Textual caches on a strip (the app's line filters,
        the compositor's cuts) is not done again; lines are made here, in the table's plain box,
        as Textual's own line cache would make them (the content padded with the background,
        then the app's filters), so every cell looks as it did."""
        self._now = self.clock.timestamp()  # one "now" for every line of a paint
        self._base = self.rich_style
        if not self._plain_box():
            self._paint = None
            return super().render_lines(crop)
        self._paint = self._paint_facts()
        content_width = self.content_region.width
        base_background, background = self.background_colors
        inner = TextualStyle(background=base_background + background).rich_style
        lines = [self.render_line(y).adjust_cell_length(content_width, inner) for y in crop.line_range]
        for line_filter in self.get_line_filters():
            lines = [line.apply_filter(line_filter, background) for line in lines]
        x1, x2 = crop.column_span
        if (x1, x2) != (0, self.region.width):
            lines = [line.crop(x1, x2) for line in lines]
        self._paint = None
        return lines

    def _plain_box(self) -> bool:
        """Whether the table is drawn without border, outline, padding, tint, hatch, title or
        opacity (as its stylesheet has it): then :meth:`render_lines` draws it alone."""
        styles = self.styles
        return (
            self.region.size == self.content_region.size
            and not any(edge for edge, _ in styles.outline)
            and not any(edge for edge, _ in styles.border)
            and not styles.tint.a
            and self.opacity == 1.0
            and styles.text_opacity == 1.0
            and not (styles.has_rule("hatch") and styles.hatch != "none")
            and self._border_title is None
            and self._border_subtitle is None
        )

    def _paint_facts(self) -> tuple[int, int, int, list[Row]]:
        """(width, first row index, rows in the model, the rows on screen) for one paint."""
        width = self.scrollable_content_region.width or self.size.width
        top = int(self.scroll_offset.y)
        total = len(self.model)
        return width, top, total, self.model.rows(top, top + max(0, self.size.height - 1))

    def render_line(self, y: int) -> Strip:
        width, top, total, rows = self._paint if self._paint is not None else self._paint_facts()
        index = top + y - 1
        if y == 0 or not 0 <= index < total:
            return self._fixed_line(y, width, total)
        row = rows[y - 1] if y - 1 < len(rows) else self.model.row_at(index)
        # A row's line changes with the row, the time columns' texts, the cursor and the
        # layout: drawn again only then (most rows on screen stay the same from frame to frame).
        cells = self._static(row)
        times = self._times(row)
        cursor = index == self.cursor and self._cursor_known
        signature = (cells, times, cursor, width, self.show_region, self._base)
        cached = self._strips.get(row.key)
        if cached is not None and cached[0] == signature:
            return cached[1]
        strip = self._row_strip(row.key, cells, width, times, cursor)
        self._strips[row.key] = (signature, strip)
        return strip

    def _fixed_line(self, y: int, width: int, total: int) -> Strip:
        """The header line, and the lines without a row (the empty table's message among them)."""
        key = (y == 0, y if not total else -1, width, self.show_region, self.model.sort, self.model.descending, self.empty_text if not total else "", self._base)
        line = self._fixed_lines.get(key)
        if line is None:
            if len(self._fixed_lines) > 64:
                self._fixed_lines.clear()
            # The widget's own colours under every cell (a line-API strip carries its own).
            line = self._fixed_lines[key] = self._line(y).apply_style(self._base)
        return line

    def _times(self, row: Row) -> tuple[str, str, str, str]:
        """The texts of the time columns (time left, its tone, in status, age) at this paint's now."""
        now = self._now
        if row.deadline is None:
            left, tone = "-", "none"
        else:
            seconds = row.deadline - now
            left, tone = duration(seconds), _urgency(seconds)
        return left, tone, duration(now - row.status_since), duration(now - row.created)

    def _line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width or self.size.width
        if y == 0:
            return self._header(width)
        total = len(self.model)
        if not total:
            middle = max(1, (self.scrollable_content_region.height - 1) // 2)
            if y == middle:
                text = self.empty_text
                pad = max(0, (width - len(text)) // 2)
                return Strip([Segment(fit(" " * pad + text, width), self._style("empty"))], width)
            return Strip.blank(width)
        return Strip.blank(width)  # below the last row (rows are drawn by render_line)

    def _header(self, width: int) -> Strip:
        header = self._style("header")
        sorted_style = self._style("sorted")
        segments = []
        for column, w in self._columns():
            if column is None:
                segments.append(Segment(" " * (w + 1), header))
                continue
            title = TITLES[column]
            if column is self.model.sort:
                arrow = "▼" if self.model.descending else "▲"
                title = fit(title, w - 1).rstrip() + arrow
                text = fit_right(title, w) if column in RIGHT else fit(title, w)
                segments.append(Segment(text, sorted_style))
            else:
                text = fit_right(title, w) if column in RIGHT else fit(title, w)
                segments.append(Segment(text, header))
            segments.append(Segment(" ", header))
        return Strip(segments).adjust_cell_length(width, header)

    def _dress(self, style: Style | None, cursor: bool) -> Style | None:
        """A cell's style under the cursor's (on the cursor's line) and the widget's own: what
        applying each of them to the whole line gives that cell."""
        key = (style, cursor, self._base)
        if key in self._dressed:
            return self._dressed[key]
        dressed = style
        cursor_style = self._style("cursor")
        if cursor and cursor_style:
            dressed = cursor_style + dressed
        if self._base:
            dressed = self._base + dressed
        self._dressed[key] = dressed
        return dressed

    def _parts(self, key: Key, cells: _Cells, width: int, cursor: bool) -> _Parts:
        """A row's line without its time columns: the segments that only change with what the
        row shows, the layout and the cursor, with a slot for each time column."""
        made_from = (cells, width, self.show_region, cursor, self._base)
        cached = self._row_parts.get(key)
        if cached is not None and cached.key == made_from:
            return cached
        dress = self._dress
        dim = self._style("dim")
        segments: list[Segment] = []
        slots: list[tuple[int, Column, int]] = []
        space = Segment(" ", dress(None, cursor))
        length = 0
        for column, w in self._columns(width):
            length += w + 1
            if column is None:
                segments.append(Segment(cells.kind, dress(dim, cursor)))
            elif column is Column.ID:
                segments.append(Segment(fit(cells.id, w), dress(None, cursor)))
            elif column is Column.GROUP:
                segments.append(Segment(fit(cells.group, w), dress(dim, cursor)))
            elif column is Column.REGION:
                segments.append(Segment(fit(cells.region, w), dress(dim, cursor)))
            elif column is Column.STATUS:
                segments.append(Segment(fit(cells.status, w), dress(self._style(cells.tone), cursor)))
            elif column is Column.PROGRESS:
                segments.append(Segment(fit_right(cells.progress, w), dress(None, cursor)))
            elif column is Column.PLAYERS:
                segments.append(Segment(fit(cells.players, w), dress(None, cursor)))
            else:  # a time column: filled in at each paint
                slots.append((len(segments), column, w))
                segments.append(space)
            segments.append(space)
        parts = _Parts(made_from, segments, tuple(slots), length, dress(None, cursor))
        if len(self._row_parts) > 4 * 256:
            self._row_parts.clear()
        self._row_parts[key] = parts
        return parts

    def _row_strip(self, key: Key, cells: _Cells, width: int, times: tuple[str, str, str, str], cursor: bool) -> Strip:
        parts = self._parts(key, cells, width, cursor)
        left, tone, in_status, age = times
        segments = parts.segments.copy()
        dress = self._dress
        for at, column, w in parts.slots:
            if column is Column.DEADLINE:
                if tone == "none":
                    style: Style | None = self._style("dim")
                else:
                    style = self._style(tone) if tone in ("urgent", "soon") else Style()
                segments[at] = Segment(fit_right(left, w), dress(style, cursor))
            elif column is Column.IN_STATUS:
                segments[at] = Segment(fit_right(in_status, w), dress(None, cursor))
            else:
                segments[at] = Segment(fit_right(age, w), dress(self._style("dim"), cursor))
        return Strip(segments, parts.length).adjust_cell_length(width, parts.pad)


def _urgency(seconds: float) -> str:
    if seconds < 15:
        return "urgent"
    if seconds < 60:
        return "soon"
    return "calm"
