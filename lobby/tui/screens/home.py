"""Home: what awaits an answer, the open matches, and the answers already sent."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, cast

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Header

from lobby.core.offers import OfferKind
from lobby.tui.messages import Health, backend_label
from lobby.tui.safe import BRIEF, brief, clean, plain
from lobby.tui.store import FILTER_FACTS, Entry
from lobby.tui.widgets.backend_bar import BackendBar, describe
from lobby.tui.widgets.countdown import countdown_text
from lobby.tui.widgets.filter_bar import FilterBar
from lobby.tui.widgets.keys_footer import KeysFooter
from lobby.tui.widgets.offer_section import Column, OfferSection

if TYPE_CHECKING:
    from lobby.tui.app import LobbyApp

KIND_WORDS = {
    OfferKind.FLEXMATCH_TICKET: "Ticket",
    OfferKind.TEAMBATTLES_MATCH: "Match",
    OfferKind.TEAMBATTLES_CHALLENGE: "Challenge",
}


def _kind(entry: Entry) -> Text:
    return Text(KIND_WORDS.get(entry.offer.kind, entry.offer.kind.value), style="bold")


#: Marks an offer shown from the last-known offers until its backend confirms it.
REFRESHING_MARK = "↻ "


def _title(entry: Entry) -> Text:
    if entry.unconfirmed:  # last known, not confirmed yet: marked in words' place, not by colour
        return plain(REFRESHING_MARK + entry.offer.title, "italic")
    return plain(entry.offer.title)


def _for(entry: Entry) -> Text:
    offer = entry.offer
    if offer.players:
        who = ", ".join(offer.players)
    else:
        who = offer.facts.get("challengedTeam", "") or offer.facts.get("creatorTeam", "")
    return plain(who)


def _progress(entry: Entry) -> Text:
    if entry.offer.progress is None:
        return Text("-", style="dim")
    accepted, total = entry.offer.progress
    return Text(f"{accepted}/{total}", style="bold" if accepted < total else "bold green")


def _left(entry: Entry) -> Text:
    if entry.closed is not None:
        return Text("closed", style="dim")
    return countdown_text(entry.offer.deadline, entry.clock)


def _fact(name: str) -> Callable[[Entry], Text]:
    def render(entry: Entry) -> Text:
        return plain(entry.offer.facts.get(name, "-"))

    return render


def _size(entry: Entry) -> Text:
    size = entry.offer.facts.get("teamSize")
    return plain(f"{size}v{size}" if size else "-")


def _status(entry: Entry) -> Text:
    offer = entry.offer
    if entry.request is not None or entry.closed is not None or entry.answer_is_newest:
        text = plain(entry.status_words)
    elif offer.kind is OfferKind.FLEXMATCH_TICKET and offer.progress is not None:
        accepted, total = offer.progress
        text = plain(f"{offer.status.replace('_', ' ').lower()} · {accepted}/{total} accepted")
    else:
        text = plain(offer.status.replace("_", " ").lower())
    return text


AWAITING_COLUMNS = (
    Column("kind", "Kind", _kind, width=9),
    Column("title", "Offer", _title, width=16, flex=True),
    Column("for", "For", _for, width=16),
    Column("progress", "Accepted", _progress, width=8),
    Column("left", "Left", _left, width=8, live=True),
)
OPEN_COLUMNS = (
    Column("title", "Match", _title, width=16, flex=True),
    Column("game", "Game", _fact("game"), width=16),
    Column("size", "Size", _size, width=5),
    Column("region", "Region", _fact("region"), width=8),
    Column("left", "Starts in", _left, width=9, live=True),
)
REQUEST_COLUMNS = (
    Column("kind", "Kind", _kind, width=9),
    Column("title", "Offer", _title, width=24),
    Column("status", "Status", _status, width=16, flex=True),
    Column("left", "Left", _left, width=8, live=True),
)


class HomeScreen(Screen[None]):
    """The three sections, a line of backend health, and the footer's keys."""

    BINDINGS = [
        Binding("slash", "filter", "Filter", id="lobby.home.filter"),
        Binding("escape", "close_filter", "Close filters", show=False, id="lobby.home.close_filter"),
        Binding("1", "section('awaiting')", "Awaiting", show=False, id="lobby.home.awaiting"),
        Binding("2", "section('open')", "Open", show=False, id="lobby.home.open"),
        Binding("3", "section('requests')", "Requests", show=False, id="lobby.home.requests"),
    ]

    @property
    def lobby(self) -> LobbyApp:
        return cast("LobbyApp", self.app)

    def compose(self) -> ComposeResult:
        # Each section starts empty or not as it will be shown (the last-known offers are
        # there before the first frame): then filling it restyles nothing.
        awaiting, open_matches, requests = self._entries()
        yield Header()
        yield BackendBar(id="backends")
        yield OfferSection("Awaiting you", AWAITING_COLUMNS, id="awaiting", empty=not awaiting)
        yield FilterBar(id="filters")
        yield OfferSection("Open matches", OPEN_COLUMNS, id="open", empty=not open_matches)
        yield OfferSection("My requests", REQUEST_COLUMNS, verb="Open", id="requests", empty=not requests)
        yield KeysFooter()

    def _entries(self) -> tuple[list[Entry], list[Entry], list[Entry]]:
        """What each section shows: awaiting an answer, open matches (filtered), my requests."""
        store = self.lobby.store
        return store.awaiting(), store.open_matches(self.lobby.filters), store.my_requests()

    def on_mount(self) -> None:
        app = self.lobby
        self._refresh_due = False
        app.offers_changed.subscribe(self, lambda _: self._changed())
        app.status_changed.subscribe(self, lambda _: self._changed())
        app.ticked.subscribe(self, lambda _: self._tick())
        self.refresh_sections()

    def _changed(self) -> None:
        """Offers or a backend's health changed: the sections are refreshed once for all that
        changes together (a backend's listing, the requests it knows and its health arrive in
        one go), as soon as the screen handles its next message."""
        if not self._refresh_due:
            self._refresh_due = True
            self.call_next(self._refresh_changed)

    def _refresh_changed(self) -> None:
        self._refresh_due = False
        self.refresh_sections()

    def on_screen_resume(self) -> None:
        self.refresh_sections()

    def _tick(self) -> None:
        for section in self.query(OfferSection):
            section.tick()

    # --- content -------------------------------------------------------------------------------

    def _placeholder(self, empty: str) -> Text:
        """What a section says when it has no rows: loading, a failure, or ``empty``."""
        app = self.lobby
        statuses = [app.status[b.name] for b in app.backends if b.name in app.status]
        if not app.backends:
            if app.connecting is not None:
                return Text(f"Connecting to profile {clean(app.connecting)}…", style="italic")
            return Text("No backend is configured. Run `lobby demo`, or add a profile to config.toml.", style="dim")
        failed = [s for s in statuses if s.health is Health.ERROR]
        loading = [s for s in statuses if s.health is Health.LOADING]
        text = Text()
        if loading:
            names = ", ".join(backend_label(s.name) for s in loading)
            text.append(f"Loading offers from {names}…", style="italic")
        for status in failed:
            if text:
                text.append("\n")
            text.append(f"{backend_label(status.name)}: ", style="bold red")
            text.append_text(plain(status.detail or "failed.", "red", limit=BRIEF))
        if not text and app.connecting is not None:
            text.append(f"Connecting to the rest of profile {clean(app.connecting)}…", style="italic")
        if not text:
            text.append(empty)
        return text

    def refresh_sections(self) -> None:
        app = self.lobby
        store = app.store
        labels = {b.name: backend_label(b.name) for b in app.backends}
        statuses = [app.status[b.name] for b in app.backends if b.name in app.status]
        notices = [app.following.notices[b.name] for b in app.backends if b.name in app.following.notices]
        self.query_one(BackendBar).show(describe(statuses, labels, connecting=app.connecting, notices=notices))
        awaiting, open_matches, requests = self._entries()

        self.query_one("#awaiting", OfferSection).show(
            awaiting,
            self._placeholder(
                "Nothing awaits your answer. A toast announces each new match."
                if app.alerts.visual_only
                else "Nothing awaits your answer. A toast and the bell announce each new match."
            ),
        )
        filters = app.filters
        bar = self.query_one(FilterBar)
        bar.set_choices({name: store.fact_values(name) for name in FILTER_FACTS}, filters.values)
        if filters.active:
            key = self.lobby.key_for(HomeScreen, "lobby.home.filter")
            empty = f"No open match fits the filters ({brief(filters.describe())}). Press {key} to change them."
        else:
            empty = "No open matches right now."
        self.query_one("#open", OfferSection).show(
            open_matches,
            self._placeholder(empty),
            subtitle=f"filter: {brief(filters.describe(), 60)}" if filters.active else "",
        )
        self.query_one("#requests", OfferSection).show(
            requests,
            self._placeholder("No answers sent yet. Answer an offer above and follow it here."),
        )
        if self.focused is None:
            self._focus_first()
        app.home_shown(sum(section.count for section in self.query(OfferSection)))

    def _focus_first(self) -> None:
        for section in self.query(OfferSection):
            if section.count:
                section.focus_table()
                return

    # --- actions -------------------------------------------------------------------------------

    def on_offer_section_chosen(self, event: OfferSection.Chosen) -> None:
        self.lobby.open_offer(event.key)

    def action_section(self, name: str) -> None:
        self.query_one(f"#{name}", OfferSection).focus_table()

    async def action_filter(self) -> None:
        bar = self.query_one(FilterBar)
        await bar.build()
        bar.add_class("-shown")
        bar.query_one("Select").focus()

    def action_close_filter(self) -> None:
        bar = self.query_one(FilterBar)
        if bar.has_class("-shown"):
            bar.remove_class("-shown")
            self.query_one("#open", OfferSection).focus_table()

    def on_filter_bar_changed(self, event: FilterBar.Changed) -> None:
        self.lobby.set_filters(event.values)

    async def apply_filter(self, name: str, value: str | None) -> None:
        """Set one filter (from the command palette) and show the bar."""
        bar = self.query_one(FilterBar)
        await bar.build()
        bar.add_class("-shown")
        self.lobby.set_filters({name: value})
        self.refresh_sections()
        from textual.widgets import Select

        select = bar.query_one(f"#filter-{name}", Select)
        with select.prevent(Select.Changed):
            if value is None:
                select.clear()
            else:
                select.value = value
