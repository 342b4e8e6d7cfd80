"""The moderator's screen: every live ticket and match, read-only, filtered and sorted.

Events are applied to the :class:`~lobby.moderation.board.Board` as they arrive (a dict
update each); the screen catches up once per frame (:data:`FRAME_SECONDS`): the table model
moves only the rows that changed and the table repaints the visible lines. The header's figures
are recomputed a few times a second. Nothing here waits on the network.

Keys: ``/`` filter (fuzzy over id, player, team, configuration, region), ``t`` status toggles,
``f`` finished rows on or off, ``g`` one region at a time (then every region again), ``<`` ``>``
sort column, ``r`` reverse, ``enter`` timeline, ``x`` the messages the feed rejected. Once rows
come from more than one AWS region (feeds of several regions), the table shows a region column.

No message stops the feed: what a source cannot read it counts and lists (its ``rejects``), and
an event the board cannot apply is listed there too.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import time

from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Input

from lobby.core.clock import Clock, SystemClock
from lobby.core.errors import BackendError
from lobby.moderation.board import Board
from lobby.moderation.rejects import why_unreadable
from lobby.moderation.rows import Key
from lobby.tui.services import console_of
from lobby.moderation.sources import ModerationSource
from lobby.moderation.view import COLUMNS, Column, TableModel
from lobby.tui.moderator.header import HeaderFacts, ModerationHeader
from lobby.tui.moderator.table import ModerationTable
from lobby.tui.safe import clean
from lobby.tui.widgets.keys_footer import KeysFooter

log = logging.getLogger("lobby.tui.moderator")

#: One frame: the longest an applied event waits before it is on screen.
FRAME_SECONDS = 0.1
#: Figures (percentiles, sparkline) every this many frames.
FIGURES_EVERY = 5
#: Time columns repaint and finished rows are pruned every this many frames.
SECOND_EVERY = 10
#: Seconds a frame spends at most on making a new sort order (the rest waits for the next
#: frame; the rows on screen are known at once).
ORDER_SLICE = 0.012
#: Seconds of applying events between two yields to the event loop, so a key or a frame never
#: waits long behind a burst (a fraction of a frame).
APPLY_SLICE = 0.01
#: Events applied between two looks at the time.
_LOOK_EVERY = 16

#: Rows from which the board's objects are kept out of full garbage-collector passes.
FREEZE_FROM = 1000
#: Allocations between two collections of the youngest generation once the board is that big.
YOUNG_THRESHOLD = 20_000

EMPTY_LOBBY = "The lobby is empty: no FlexMatch ticket or TeamBattles match is live."


class ModeratorScreen(Screen[None]):
    """Watch every ticket and match; answer nothing."""

    DEFAULT_CSS = """
    ModeratorScreen { background: $surface; }
    ModeratorScreen #mod-filter { display: none; height: 1; border: none; padding: 0 1; }
    ModeratorScreen #mod-filter.-shown { display: block; }
    """

    BINDINGS = [
        # A priority binding runs before the next key is routed, so keys typed right after
        # "/" land in the filter (an ordinary binding would let them reach the table first).
        Binding("slash", "filter", "Filter", priority=True, id="lobby.moderator.filter"),
        Binding("t", "statuses", "Statuses", id="lobby.moderator.statuses"),
        Binding("f", "finished", "Finished", id="lobby.moderator.finished"),
        Binding("g", "region", "Region", show=False, id="lobby.moderator.region"),
        Binding("less_than_sign", "sort(-1)", "Sort ◀", key_display="<", id="lobby.moderator.sort_left"),
        Binding("greater_than_sign", "sort(1)", "Sort ▶", key_display=">", id="lobby.moderator.sort_right"),
        Binding("r", "reverse", "Reverse", id="lobby.moderator.reverse"),
        Binding("x", "rejected", "Rejected", show=False, id="lobby.moderator.rejected"),
        Binding("escape", "back", "Back", show=False, id="lobby.moderator.escape"),
    ]

    def __init__(
        self,
        source: ModerationSource,
        *,
        clock: Clock | None = None,
        board: Board | None = None,
        window: float = 300.0,
        keep_finished: float = 300.0,
        name: str | None = None,
    ) -> None:
        super().__init__(name=name)
        self.source = source
        self._clock = clock
        self.board = board if board is not None else Board(window=window, keep_finished=keep_finished)
        self.model = TableModel(self.board)
        self.problem: str | None = None
        self.frames = 0
        self._state = ""
        #: The collector's thresholds before this screen raised them (None: not raised).
        self._thresholds: tuple[int, int, int] | None = None
        self._notes_said = 0

    @property
    def clock(self) -> Clock:
        if self._clock is None:
            console = console_of(self)
            self._clock = console.clock if console is not None else SystemClock()
        return self._clock

    # --- layout and life ----------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield ModerationHeader(id="mod-header")
        yield Input(placeholder="filter: id, player, team, configuration", id="mod-filter", compact=True)
        yield ModerationTable(self.model, self.clock, id="mod-table")
        yield KeysFooter()

    @property
    def table(self) -> ModerationTable:
        return self.query_one("#mod-table", ModerationTable)

    @property
    def header(self) -> ModerationHeader:
        return self.query_one("#mod-header", ModerationHeader)

    def on_mount(self) -> None:
        console = console_of(self)
        if console is not None and console.still:
            self.query_one("#mod-filter", Input).cursor_blink = False  # pictures must not flake
        self.table.focus()
        self.frame(figures=True)
        self.set_interval(FRAME_SECONDS, self.frame, name="moderation-frame")
        self.run_worker(self._follow(), name="moderation feed", group="moderation-feed", exclusive=True, exit_on_error=False)

    async def on_unmount(self) -> None:
        if self._thresholds is not None:
            gc.set_threshold(*self._thresholds)
            self._thresholds = None
        with contextlib.suppress(Exception):
            await self.source.aclose()

    async def _follow(self) -> None:
        """Apply each batch of events to the board as it arrives (the screen catches up per
        frame). A feed with a backlog hands batches over without waiting: every
        :data:`APPLY_SLICE` seconds of applying, the loop lets keys and frames run."""
        apply = self.board.apply
        clock = time.perf_counter
        applied = 0
        slice_ends = clock() + APPLY_SLICE
        try:
            async with contextlib.aclosing(self.source.batches()) as batches:
                async for batch in batches:
                    for event in batch:
                        try:
                            apply(event)
                        except Exception as exc:  # noqa: BLE001 - one event must not stop the feed
                            self.source.rejects.add(event.uid[:200], f"not applied: {why_unreadable(exc)}")
                        applied += 1
                        if applied % _LOOK_EVERY == 0 and clock() >= slice_ends:
                            await asyncio.sleep(0)
                            slice_ends = clock() + APPLY_SLICE
        except BackendError as exc:
            self.problem = exc.message
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a broken feed must not take the screen down
            log.exception("the moderation feed failed")
            self.problem = f"The event feed stopped ({type(exc).__name__})."

    # --- frames -------------------------------------------------------------------------------

    @property
    def feed_state(self) -> str:
        if self.problem is not None:
            return "failed"
        return str(self.source.state)

    def frame(self, *, figures: bool = False) -> None:
        """Catch up with the board: move changed rows, repaint; figures now and then."""
        self.frames += 1
        table = self.table
        if self.frames % SECOND_EVERY == 0:
            self.board.prune(self.clock.timestamp())
        self._settle_memory()
        several = self._several_regions()
        if several is not table.show_region:
            table.show_region = several
            table.refresh()
        self.model.work(ORDER_SLICE)
        changed = self.model.update()
        if changed:
            table.empty_text = self._empty_text()
            table.sync()
        elif self.frames % SECOND_EVERY == 0:
            table.refresh()  # the time columns
        rejects = self.source.rejects
        while self._notes_said < len(rejects.notes):
            self.notify(clean(rejects.notes[self._notes_said]), severity="warning", timeout=20)
            self._notes_said += 1
        state = self.feed_state
        if figures or state != self._state or self.frames % FIGURES_EVERY == 0:
            self._state = state
            self._show_figures()

    def _several_regions(self) -> bool:
        """Whether the rows come from more than one AWS region."""
        named = 0
        for region in self.board.regions:
            if region:
                named += 1
                if named > 1:
                    return True
        return False

    def _settle_memory(self) -> None:
        """Keep the garbage collector's passes short: once the board is big, each frame.

        Each event replaces some of a row's objects: the new ones are young, the old ones were
        not, so the collector's count of young objects (allocations minus deallocations of any
        age) hardly moves while the youngest generation itself grows by tens of thousands of
        objects a second, and its passes (then the middle generation's, then the full ones)
        take tens to hundreds of milliseconds, during which nothing is drawn. So, once the board
        holds :data:`FREEZE_FROM` rows, every frame collects what the youngest generation holds
        (one frame's worth: the cycles made since the last frame, such as the drawing library's,
        are freed) and moves the survivors out of the collector's sight (``gc.freeze``): rows
        hold no reference cycles, so reference counting still frees them when they go. Between
        frames the youngest generation is collected only every :data:`YOUNG_THRESHOLD`
        allocations instead of 700.
        """
        if len(self.board) < FREEZE_FROM:
            return
        gc.collect(0)
        gc.freeze()
        if self._thresholds is None:
            self._thresholds = gc.get_threshold()
            young, *older = self._thresholds
            gc.set_threshold(max(young, YOUNG_THRESHOLD), *older)

    def _empty_text(self) -> str:
        if not len(self.board):
            return EMPTY_LOBBY
        if self.model.query.strip():
            return f"No row matches “{clean(self.model.query.strip())}”."
        if self.model.region is not None:
            return f"No row of {clean(self.model.region)} has the statuses shown (g: regions)."
        return "No row has the statuses shown (t: statuses, f: finished)."

    def _show_figures(self) -> None:
        snapshot = self.board.snapshot(self.clock.timestamp())
        last = self.source.last_event_id
        self.header.show(
            HeaderFacts(
                state=self.feed_state,
                problem=self.problem,
                source=self.source.description,
                shown=len(self.model),
                total=len(self.board),
                snapshot=snapshot,
                hidden=self.model.hidden,
                finished_shown=self.model.showing_finished,
                resume_after=str(last) if last else None,
                rejected=self.source.rejects.count,
                region=self.model.region,
            )
        )

    # --- actions ------------------------------------------------------------------------------

    def action_filter(self) -> None:
        box = self.query_one("#mod-filter", Input)
        if self.focused is box:
            # Inside the filter "/" is text: queue it behind the keys the filter has yet to read.
            box.post_message(events.Key("slash", "/"))
            return
        box.add_class("-shown")
        self.set_focus(box, scroll_visible=False)

    @on(Input.Changed, "#mod-filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.model.set_query(event.value)
        self.frame(figures=True)

    @on(Input.Submitted, "#mod-filter")
    def _filter_done(self, event: Input.Submitted) -> None:
        if not event.value.strip():
            event.input.remove_class("-shown")
        self.table.focus()

    def action_back(self) -> None:
        box = self.query_one("#mod-filter", Input)
        if self.focused is box or box.value:
            box.value = ""
            box.remove_class("-shown")
            self.model.set_query("")
            self.table.focus()
            self.frame(figures=True)
            return
        if self.app.screen is self and len(self.app.screen_stack) > 1:
            self.dismiss()

    def action_statuses(self) -> None:
        from lobby.tui.moderator.statuses import StatusPicker

        counts = dict(self.board.live_counts)
        for row in self.board.rows.values():
            if not row.live:
                counts[row.status] = counts.get(row.status, 0) + 1

        def chosen(hidden: frozenset[str] | None) -> None:
            if hidden is not None:
                self.model.set_hidden(hidden)
                self.frame(figures=True)

        self.app.push_screen(StatusPicker(self.model.hidden, counts), chosen)

    def action_rejected(self) -> None:
        from lobby.tui.moderator.rejected import RejectedView

        self.app.push_screen(RejectedView(self.source.rejects))

    def action_region(self) -> None:
        """Show the next region's rows alone; after the last, every region again."""
        regions = self.board.region_names
        current = self.model.region
        if current in regions:
            index = regions.index(current) + 1
            self.model.set_region(regions[index] if index < len(regions) else None)
        else:
            self.model.set_region(regions[0] if regions and current is None else None)
        self.frame(figures=True)

    def action_finished(self) -> None:
        self.model.toggle_finished()
        self.frame(figures=True)

    def action_sort(self, step: int) -> None:
        columns = [c for c in COLUMNS if c is not Column.REGION or self.table.show_region]
        current = self.model.sort if self.model.sort in columns else Column.GROUP
        index = (columns.index(current) + step) % len(columns)
        self.sort_by(columns[index], descending=False)

    def action_reverse(self) -> None:
        self.sort_by(self.model.sort, descending=not self.model.descending)

    def sort_by(self, column: Column, *, descending: bool | None = None) -> None:
        self.model.set_sort(column, descending)
        self.model.update()
        self.table.sync()

    def on_moderation_table_sort_chosen(self, message: ModerationTable.SortChosen) -> None:
        self.sort_by(message.column)

    def on_moderation_table_opened(self, message: ModerationTable.Opened) -> None:
        self.open_detail(message.key)

    def open_detail(self, key: Key) -> None:
        from lobby.tui.moderator.detail import ModerationDetailScreen

        self.app.push_screen(ModerationDetailScreen(self.board, key, self.clock))
