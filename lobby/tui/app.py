"""The lobby Textual app: the captain's console.

The app is given its backends (anything implementing :class:`OfferBackend`) and a clock, so the
same code runs against GameLift and TeamBattles, against the embedded emulator, and in tests
with a frozen clock. It owns the state store, follows every backend in a worker, and tells the
screens what changed through signals. Screens other than home are imported when first opened.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING

from textual import work
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import Screen
from textual.signal import Signal

from lobby.adapters.base import OfferBackend
from lobby.adapters.errors import BackendError
from lobby.domain.clock import Clock, SystemClock
from lobby.domain.offers import OfferKind
from lobby.paths import styles_dir
from lobby.tui import timefmt
from lobby.tui.messages import BackendStatus, Health, backend_label
from lobby.tui.safe import clean
from lobby.tui.store import Applied, Entry, Filters, Key, OfferStore, RequestState
from lobby.tui.theme import LOBBY_THEME

if TYPE_CHECKING:
    from lobby.config import Settings

#: Given a profile name, the backends it describes (may be a coroutine function).
Connect = Callable[[str], Sequence[OfferBackend] | Awaitable[Sequence[OfferBackend]]]

#: How often countdowns repaint, in seconds. They always show deadline - clock.now().
TICK_SECONDS = 0.5
#: Every how many ticks the requests a backend remembers are read again.
REQUEST_SYNC_TICKS = 4

def _lobby_commands() -> type:
    from lobby.tui.commands import LobbyCommands

    return LobbyCommands


class LobbyApp(App[None]):
    """Answer every offer before its deadline."""

    TITLE = "lobby"
    CSS_PATH = str(styles_dir() / "lobby.tcss")
    ENABLE_COMMAND_PALETTE = True
    COMMANDS = App.COMMANDS | {_lobby_commands}

    BINDINGS = [
        Binding("f1,question_mark", "help", "Help", id="lobby.help"),
        Binding("ctrl+r", "refresh", "Reload", show=False, id="lobby.refresh"),
        Binding("ctrl+q", "quit", "Quit", priority=True, id="lobby.quit"),
    ]

    def __init__(
        self,
        backends: Iterable[OfferBackend] = (),
        *,
        clock: Clock | None = None,
        settings: Settings | None = None,
        profile: str | None = None,
        profiles: Iterable[str] = (),
        connect: Connect | None = None,
        keymap: Mapping[str, str] | None = None,
        watch: bool = True,
        still: bool = False,
    ) -> None:
        """``profiles`` and ``connect`` enable switching backend profiles from the palette;
        ``watch=False`` loads the listings but does not follow changes; ``still`` turns off
        animation and blinking cursors (for pictures that must not flake)."""
        super().__init__()
        self.still = still
        if still:
            self.animation_level = "none"
        self.clock: Clock = clock or SystemClock()
        self.settings = settings
        self.bell_enabled = True if settings is None else bool(settings.bell)
        self.backends: list[OfferBackend] = list(backends)
        self.profile = profile if profile is not None else (settings.profile if settings else None)
        self.profiles = list(profiles)
        self._connect = connect
        self._watch = watch
        self._initial_keymap = dict(keymap or getattr(settings, "keymap", None) or {})
        self.store = OfferStore(self.clock)
        self._ticks = 0
        self.filters = Filters()
        self.status: dict[str, BackendStatus] = {}
        #: Fired with the list of Applied updates whenever the store changes.
        self.offers_changed: Signal[list[Applied]] = Signal(self, "offers-changed")
        #: Fired when a backend's health changes.
        self.status_changed: Signal[BackendStatus] = Signal(self, "status-changed")
        #: Fired every TICK_SECONDS so countdowns repaint from the clock.
        self.ticked: Signal[None] = Signal(self, "ticked")
        self.register_theme(LOBBY_THEME)
        wanted = settings.theme if settings is not None else LOBBY_THEME.name
        self.theme = wanted if wanted in self.available_themes else LOBBY_THEME.name
        if self.profile:
            self.sub_title = f"profile {clean(self.profile)}"

    # --- life ----------------------------------------------------------------------------------

    def get_default_screen(self) -> Screen:
        from lobby.tui.screens.home import HomeScreen

        return HomeScreen()

    def on_mount(self) -> None:
        if self._initial_keymap:
            self.set_keymap(self._initial_keymap)
        self.set_interval(TICK_SECONDS, self._tick, name="countdowns")
        if not self.backends and self._connect is not None and self.profile:
            self.switch_profile(self.profile, announce=False)  # backends built on start
        for backend in self.backends:
            self.follow(backend)

    async def on_unmount(self) -> None:
        await self._close_backends(self.backends)

    def _tick(self) -> None:
        for backend in self.backends:
            feed = getattr(backend, "feed_state", None)
            current = self.status.get(backend.name)
            if feed is not None and current is not None and current.health in (Health.LIVE, Health.RECONNECTING):
                health = Health.RECONNECTING if str(feed) == "reconnecting" else Health.LIVE
                if health is not current.health:
                    self._set_status(backend.name, health)
        self._follow_answered()
        self._ticks += 1
        if self._ticks % REQUEST_SYNC_TICKS == 0:
            moved = [a for backend in self.backends for a in self._sync_requests(backend)]
            if moved:
                self._publish(moved, alert=False)
        self.ticked.publish(None)

    def _sync_requests(self, backend: OfferBackend) -> list[Applied]:
        """Requests the backend remembers sending (TeamBattles keeps them across restarts, with
        their live status) become rows of "My requests"."""
        records = getattr(getattr(backend, "requests", None), "all", None)
        if not callable(records):
            return []
        try:
            found = list(records())
        except Exception:  # a broken local record must not stop the app
            return []
        applied = []
        for record in found:
            status = getattr(record, "status", "PENDING")
            state = RequestState(
                acceptance_id=str(getattr(record, "acceptance_id", "")),
                status=str(getattr(status, "value", status)),
                note=getattr(record, "note", None),
                team_id=getattr(record, "team_id", None),
            )
            done = self.store.note_request(backend.name, str(record.match_id), state)
            if done is not None:
                applied.append(done)
        return applied

    def _follow_answered(self) -> None:
        """Answered tickets whose offer closed: learn where they ended (see followup)."""
        from lobby.tui.followup import follow_up

        moved = []
        for entry in self.store:
            if entry.closed is None or not entry.answered or entry.offer.kind is not OfferKind.FLEXMATCH_TICKET:
                continue
            backend = self.backend(entry.backend)
            if backend is None:
                continue
            newer = follow_up(backend, entry.closed, entry.offer.players)
            if newer is not None:
                applied = self.store.apply(newer, entry.backend)
                if applied is not None:
                    moved.append(applied)
        if moved:
            self._publish(moved, alert=False)

    # --- backends ------------------------------------------------------------------------------

    def backend(self, name: str) -> OfferBackend | None:
        for backend in self.backends:
            if backend.name == name:
                return backend
        return None

    def _set_status(self, name: str, health: Health, detail: str = "") -> None:
        status = BackendStatus(name, health, detail)
        self.status[name] = status
        self.status_changed.publish(status)

    def follow(self, backend: OfferBackend) -> None:
        """Load ``backend``'s offers, then apply its changes as they come."""
        self._set_status(backend.name, Health.LOADING)
        self.run_worker(
            self._follow(backend),
            name=f"follow {backend.name}",
            group=f"backend:{backend.name}",
            exclusive=True,
            exit_on_error=False,
        )

    async def _follow(self, backend: OfferBackend) -> None:
        name = backend.name
        try:
            offers = await backend.list_offers()
        except BackendError as exc:
            self._backend_failed(name, exc.message)
            return
        self._publish(self.store.replace(name, offers) + self._sync_requests(backend), alert=False)
        self._set_status(name, Health.LIVE)
        if not self._watch:
            return
        try:
            async for change in backend.changes():
                applied = self.store.apply(change, name)
                moved = self._sync_requests(backend)
                if applied is not None:
                    moved.insert(0, applied)
                if moved:
                    self._publish(moved, alert=True)
        except BackendError as exc:
            self._backend_failed(name, exc.message)
            return
        if self.status.get(name, BackendStatus(name, Health.LIVE)).health is not Health.ERROR:
            self._set_status(name, Health.CLOSED)

    def _backend_failed(self, name: str, message: str) -> None:
        sentence = clean(message)
        self._set_status(name, Health.ERROR, sentence)
        self.notify(sentence, title=f"{backend_label(name)} failed", severity="error", markup=False)

    def _publish(self, applied: list[Applied], *, alert: bool) -> None:
        if alert:
            for item in applied:
                if item.arrived:
                    entry = self.store.get(item.key)
                    if entry is not None:
                        self._alert(entry)
        self.offers_changed.publish(applied)

    def _alert(self, entry: Entry) -> None:
        offer = entry.offer
        left = timefmt.countdown(offer.time_left(self.clock))
        if offer.kind is OfferKind.FLEXMATCH_TICKET:
            who = ", ".join(clean(p) for p in offer.players) or "your ticket"
            text = f"A match was found for {who}: {clean(offer.title)}. {left} left to answer."
            title = "Match found"
        else:
            text = f"{clean(offer.title)}: {left} left to answer."
            title = "Challenge received"
        self.notify(text, title=title, severity="warning", markup=False, timeout=8)
        if self.bell_enabled:
            self.bell()

    def answered(self, key: Key, note: str | None) -> None:
        """A screen sent an answer for ``key``: the offer moves to "My requests"."""
        self.store.mark_answered(key, note)
        applied = [Applied(key, new=False, arrived=False)]
        entry = self.store.get(key)
        backend = self.backend(entry.backend) if entry is not None else None
        if backend is not None:
            applied += self._sync_requests(backend)  # the request it just recorded
        self.offers_changed.publish(applied)

    async def _close_backends(self, backends: Iterable[OfferBackend]) -> None:
        for backend in backends:
            try:
                await backend.aclose()
            except Exception:  # closing must never stop the app from leaving
                pass

    # --- actions -------------------------------------------------------------------------------

    def action_help(self) -> None:
        from lobby.tui.screens.help import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(self.screen))

    def action_refresh(self) -> None:
        for backend in self.backends:
            self.follow(backend)

    def open_offer(self, key: Key) -> None:
        """Open the answer screen for one offer."""
        entry = self.store.get(key)
        if entry is None:
            return
        if entry.offer.kind is OfferKind.FLEXMATCH_TICKET:
            from lobby.tui.screens.ticket import TicketScreen

            self.push_screen(TicketScreen(key))
        else:
            from lobby.tui.screens.teambattles import TeamBattlesScreen

            self.push_screen(TeamBattlesScreen(key))

    def set_filters(self, values: Mapping[str, str | None]) -> None:
        self.filters.values.update(values)
        self.offers_changed.publish([])

    @work(exclusive=True, group="profile")
    async def switch_profile(self, name: str, *, announce: bool = True) -> None:
        """Leave the current backends and connect the ones of profile ``name``."""
        if self._connect is None:
            return
        try:
            result = self._connect(name)
            backends = list(await result if isinstance(result, Awaitable) else result)
        except (BackendError, ValueError) as exc:
            message = exc.message if isinstance(exc, BackendError) else str(exc)
            self.notify(clean(message), title=f"Cannot switch to {clean(name)}", severity="error", markup=False)
            return
        old = self.backends
        for backend in old:
            self.workers.cancel_group(self, f"backend:{backend.name}")
        await self._close_backends(old)
        self.store.clear()
        self.status.clear()
        self.backends = backends
        self.profile = name
        self.sub_title = f"profile {clean(name)}"
        self.offers_changed.publish([])
        for backend in backends:
            self.follow(backend)
        if announce:
            self.notify(f"Switched to profile {clean(name)}.", markup=False)

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        yield SystemCommand("Help", "Keys and what each part of the screen means", self.action_help)
        yield SystemCommand("Reload offers", "Ask every backend for its offers again", self.action_refresh)
