"""One ticket or match in full: its facts and every event of its life, oldest first.

The screen keeps up by itself: it redraws when the row's version or its timeline grows. A row
the board has since forgotten (finished long ago) stays on screen as last seen.
"""

from __future__ import annotations

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Static

from lobby.core.clock import Clock
from lobby.flexmatch.lifecycle import PlayerAnswer
from lobby.moderation.board import Board
from lobby.moderation.rows import Key, Kind, Row, TimelineEntry
from lobby.tui.moderator.format import clock_time, day_time, duration, status_label
from lobby.tui.moderator.table import who
from lobby.tui.safe import brief, plain
from lobby.tui.widgets.keys_footer import KeysFooter

#: How many cells of one fact (an id, a configuration), of a list of people, and of a reason
#: the facts show at most: together they leave the timeline room even at 80 columns.
FACT = 80
PEOPLE = 150
REASON = 240
#: How many cells of one event's text the timeline shows at most.
EVENT_TEXT = 400

#: How often the screen looks for news, in seconds.
REFRESH_SECONDS = 0.25


class ModerationDetailScreen(Screen[None]):
    """The timeline of one row."""

    DEFAULT_CSS = """
    ModerationDetailScreen { background: $surface; }
    ModerationDetailScreen #mod-detail-facts {
        height: auto;
        padding: 0 1;
        background: $panel;
    }
    ModerationDetailScreen #mod-detail-timeline { height: 1fr; padding: 0 1; }
    ModerationDetailScreen #mod-detail-title { text-style: bold; }
    """

    BINDINGS = [
        Binding("escape,q", "dismiss_screen", "Back", id="lobby.moderator.back"),
        Binding("end", "follow", "Latest", show=False),
    ]

    def __init__(self, board: Board, key: Key, clock: Clock) -> None:
        super().__init__()
        self.board = board
        self.key = key
        self.clock = clock
        self._row: Row | None = board.get(key)
        self._entries: list[TimelineEntry] = board.timeline(key)
        self._seen = -1

    def compose(self) -> ComposeResult:
        yield Static(id="mod-detail-facts")
        with VerticalScroll(id="mod-detail-timeline"):
            yield Static(id="mod-detail-events")
        yield KeysFooter()

    def on_mount(self) -> None:
        self._redraw(force=True)
        self.set_interval(REFRESH_SECONDS, self._redraw, name="moderation-detail")

    def action_dismiss_screen(self) -> None:
        self.dismiss()

    def action_follow(self) -> None:
        self.query_one("#mod-detail-timeline", VerticalScroll).scroll_end(animate=False)

    @property
    def gone(self) -> bool:
        return self.board.get(self.key) is None

    def _redraw(self, force: bool = False) -> None:
        row = self.board.get(self.key)
        if row is not None:
            self._row = row
        version = row.version if row is not None else -2
        if force or version != self._seen:
            self._seen = version
            if row is not None:
                self._entries = self.board.timeline(self.key)
            self.query_one("#mod-detail-events", Static).update(self._timeline())
        self.query_one("#mod-detail-facts", Static).update(self._facts())

    def _facts(self) -> Text:
        row = self._row
        kind, item_id = self.key
        noun = "ticket" if kind == Kind.TICKET else "match"
        text = Text(no_wrap=False)
        text.append(f"FlexMatch {noun} " if kind == Kind.TICKET else f"TeamBattles {noun} ", "bold")
        text.append(brief(item_id, FACT), "bold")
        if row is None:
            text.append("\nThis item is no longer on the board.", "italic")
            return text
        if row.group:
            text.append("  ·  ")
            text.append(brief(row.group, FACT))
        if row.region and len(self.board.region_names) > 1:
            text.append("  ·  ")
            text.append(brief(row.region, FACT))
        now = self.clock.timestamp()
        text.append("\nstatus ")
        text.append(status_label(row.status), "bold")
        text.append(f" for {duration(now - row.status_since)}")
        if row.total:
            text.append(f"  ·  {row.accepted}/{row.total} accepted" if kind == Kind.TICKET else f"  ·  {row.accepted} of {row.total} requests approved")
        if row.deadline is not None:
            left = row.deadline - now
            label = "left to accept" if kind == Kind.TICKET else ("until it starts" if row.status != "PENDING" else "until it expires")
            text.append(f"  ·  {duration(left)} {label}")
        text.append(f"  ·  age {duration(now - row.created)}")
        text.append(f"\nstarted {day_time(row.created)}" if kind == Kind.TICKET else f"\ncreated {day_time(row.created)}")
        if row.match_id and row.match_id != row.id:
            text.append("  ·  match ")
            text.append(brief(row.match_id, FACT))
        people = who(row)
        if people:
            text.append("\n" + ("players " if kind == Kind.TICKET else "teams "))
            text.append(brief(people, PEOPLE))
        if kind == Kind.TICKET and row.status == "REQUIRES_ACCEPTANCE":
            waiting = [p for p, a in self.board.answers(self.key).items() if a is PlayerAnswer.PENDING]
            if waiting:
                text.append("\nwaiting on ")
                text.append(brief(", ".join(waiting), PEOPLE))
        if row.reason:
            text.append("\nreason ")
            text.append(brief(row.reason, REASON))
        if self.gone:
            text.append("\nThis item is no longer on the board.", "italic")
        return text

    def _timeline(self) -> Group:
        entries = self._entries
        title = Text(f"Timeline · {len(entries)} event{'s' if len(entries) != 1 else ''} (UTC)", "bold underline")
        if not entries:
            return Group(title, Text("No event seen yet.", "italic"))
        grid = Table.grid(padding=(0, 2))
        grid.add_column(no_wrap=True, style="dim")
        grid.add_column(no_wrap=True, style="bold", max_width=26, overflow="ellipsis")
        grid.add_column(ratio=1, overflow="fold")
        for entry in entries:
            grid.add_row(clock_time(entry.time), plain(entry.type), plain(entry.text, multiline=True, limit=EVENT_TEXT))
        return Group(title, grid)
