"""The lobby Textual app: the captain's console.

The app is given its backends (anything implementing :class:`OfferBackend`) and a clock, so the
same code runs against GameLift and TeamBattles, against the embedded emulator, and in tests
with a frozen clock. It owns the state store, follows every backend in a worker, and tells the
screens what changed through signals.

Start-up paints first: the home screen shows "Connecting…" at once, and a ``connect`` callable
may hand over backends one by one as each is ready (an async iterator), so one backend's offers
show while another is still being built. Screens other than home are imported when first opened.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING

from textual import work
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import Screen
from textual.signal import Signal

from lobby.core.backend import OfferBackend
from lobby.core.clock import Clock, SystemClock
from lobby.core.errors import BackendError
from lobby.core.offers import OfferKind
from lobby.paths import styles_dir
from lobby.tui import timefmt
from lobby.tui.messages import BACKEND_LABELS, BackendStatus, Health, backend_label
from lobby.tui.safe import brief, clean
from lobby.tui.store import Applied, Entry, Filters, Key, OfferStore, RequestState
from lobby.tui.theme import LOBBY_THEME

if TYPE_CHECKING:
    from lobby.config import Settings
    from lobby.moderation.sources import ModerationSource

#: Given a profile name, the backends it describes: a sequence, an awaitable of one, or an async
#: iterator yielding each backend as soon as it is built. Raising BackendError or ValueError
#: (before the first backend) keeps the current backends.
Connect = Callable[
    [str], Sequence[OfferBackend] | Awaitable[Sequence[OfferBackend]] | AsyncIterable[OfferBackend]
]

#: How often countdowns repaint, in seconds. They always show deadline - clock.now().
TICK_SECONDS = 0.5
#: Every how many ticks the requests a backend remembers are read again.
REQUEST_SYNC_TICKS = 4
#: For the start-up bench (tests/bench): a file path. The app appends ``rows <time> <cpu>`` after
#: the first paint of the home screen showing offers, and ``loaded <time> <cpu>`` after the first
#: such paint once every backend is connected and none is still loading, then exits (``time``:
#: time.time(); ``cpu``: time.process_time(), this process's CPU seconds so far).
FIRST_PAINT_ENV = "LOBBY_FIRST_PAINT_FILE"
#: While connecting a profile, the next backend is built once the previous one has answered its
#: first listing, or after this many seconds at most.
NEXT_BACKEND_AFTER = 1.0
#: Start-up is over once the first profile is connected (see ``on_started``), or after this many
#: seconds at most.
STARTED_AT_MOST = 10.0

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
        Binding("M", "moderate", "Moderate", id="lobby.moderate"),
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
        moderation: Callable[[str | None], ModerationSource | None] | None = None,
        on_started: Callable[[], object] | None = None,
    ) -> None:
        """``profiles`` and ``connect`` enable switching backend profiles from the palette;
        ``watch=False`` loads the listings but does not follow changes; ``still`` turns off
        animation and blinking cursors (for pictures that must not flake); ``moderation``, given
        the current profile, builds the event source of the moderator's view (None: that
        profile has no feed to watch); ``on_started`` is called once, after the first frame that
        follows connecting the first profile (or after STARTED_AT_MOST seconds at most)."""
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
        self._moderation = moderation
        self._on_started = on_started
        #: The profile whose backends are being connected (the home says so meanwhile).
        self.connecting: str | None = None
        self._connecting_token: object = None
        self._settling: dict[str, asyncio.Event] = {}
        if not self.backends and connect is not None and self.profile:
            self.connecting = self.profile  # connected once the first frame is on screen
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
        self._first_paint_file = os.environ.get(FIRST_PAINT_ENV) or None
        self._painted_rows = self._painted_loaded = False

    # --- life ----------------------------------------------------------------------------------

    def get_default_screen(self) -> Screen:
        from lobby.tui.screens.home import HomeScreen

        return HomeScreen()

    def on_mount(self) -> None:
        if self._initial_keymap:
            self.set_keymap(self._initial_keymap)
        self.set_interval(TICK_SECONDS, self._tick, name="countdowns")
        if self._on_started is not None:
            self.set_timer(STARTED_AT_MOST, self._started, name="start-up over")
        if self.connecting is not None:
            # Backends are built after the first frame, so the console shows up at once.
            self.call_after_refresh(self.switch_profile, self.connecting, announce=False)
        else:
            self.call_after_refresh(self._started)
        for backend in self.backends:
            self.follow(backend)

    def _started(self) -> None:
        callback, self._on_started = self._on_started, None
        if callback is not None:
            callback()

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

    def home_shown(self, rows: int) -> None:
        """The home screen now shows ``rows`` offers (see :data:`FIRST_PAINT_ENV`)."""
        if self._first_paint_file is None or not rows:
            return
        if not self._painted_rows:
            self._painted_rows = True
            self.call_after_refresh(self._first_paint, "rows")
        loading = any(self.status.get(b.name, BackendStatus(b.name, Health.LOADING)).health is Health.LOADING for b in self.backends)
        if self.connecting is None and not loading and not self._painted_loaded:
            self._painted_loaded = True
            self.call_after_refresh(self._first_paint, "loaded")

    def _first_paint(self, what: str) -> None:
        import time

        if self._first_paint_file is None:
            return
        with open(self._first_paint_file, "a") as out:
            out.write(f"{what} {time.time()!r} {time.process_time()!r}\n")
        if what == "loaded":
            self._first_paint_file = None
            self.exit()

    # --- backends ------------------------------------------------------------------------------

    def backend(self, name: str) -> OfferBackend | None:
        for backend in self.backends:
            if backend.name == name:
                return backend
        return None

    def _set_status(self, name: str, health: Health, detail: str = "") -> None:
        status = BackendStatus(name, health, detail)
        self.status[name] = status
        if health is not Health.LOADING and name in self._settling:
            self._settling.pop(name).set()
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
        self.notify(brief(sentence), title=f"{backend_label(name)} failed", severity="error", markup=False)

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
            who = brief(", ".join(offer.players)) or "your ticket"
            text = f"A match was found for {who}: {brief(offer.title)}. {left} left to answer."
            title = "Match found"
        else:
            text = f"{brief(offer.title)}: {left} left to answer."
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

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "moderate":
            # Not offered on the moderator's view itself (its module is loaded once it was opened).
            loaded = sys.modules.get("lobby.tui.moderator.screen")
            return self._moderation is not None and not (
                loaded is not None and isinstance(self.screen, loaded.ModeratorScreen)
            )
        return True

    def action_moderate(self) -> None:
        """Open the moderator's view (read-only) of the current profile's feed."""
        from lobby.tui.moderator.screen import ModeratorScreen

        if self._moderation is None or isinstance(self.screen, ModeratorScreen):
            return
        try:
            source = self._moderation(self.profile)
        except (BackendError, ValueError) as exc:
            self._notify_failure("Cannot open the moderator's view", exc)
            return
        if source is None:
            self.notify(
                f"Profile {clean(self.profile or '')} has no event feed to watch: use the emulator, or "
                "set gamelift.notifications_queue to an SQS queue that receives FlexMatch events.",
                title="No moderator's view",
                severity="warning",
                markup=False,
            )
            return
        # A feed may know the service's clock better than this machine's (the emulator's may be
        # moved by tests); countdowns then follow it.
        self.push_screen(ModeratorScreen(source, clock=getattr(source, "clock", None) or self.clock))

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
        token = self._connecting_token = object()
        self.connecting = name
        self.offers_changed.publish([])
        try:
            await self._switch_profile(self._connect, name, announce=announce)
        finally:
            if self._connecting_token is token:  # not already replaced by a newer switch
                self.connecting = None
                self.offers_changed.publish([])
                self.call_after_refresh(self._started)

    async def _switch_profile(self, connect: Connect, name: str, *, announce: bool) -> None:
        stream: AsyncIterator[OfferBackend] | None = None
        try:
            result = connect(name)
            if isinstance(result, AsyncIterable):
                stream = aiter(result)
                item = await anext(stream, None)
                first = [] if item is None else [item]
            else:
                first = list(await result if isinstance(result, Awaitable) else result)
        except (BackendError, ValueError) as exc:
            self._notify_failure(f"Cannot switch to {clean(name)}", exc)
            return
        try:
            old = self.backends
            for backend in old:
                self.workers.cancel_group(self, f"backend:{backend.name}")
            await self._close_backends(old)
            self.store.clear()
            self.status.clear()
            self.backends = []
            self.profile = name
            self.sub_title = f"profile {clean(name)}"
            self.offers_changed.publish([])
            for backend in first:
                self._adopt(backend)
            if stream is not None:
                last = first[-1] if first else None
                while True:
                    if last is not None:
                        # One at a time: building the next backend (importing its adapter)
                        # would slow down showing this one's offers.
                        await self._settled(last, NEXT_BACKEND_AFTER)
                        await self._next_frame()
                    backend = await anext(stream, None)
                    if backend is None:
                        break
                    self._adopt(backend)
                    last = backend
        except (BackendError, ValueError) as exc:  # the backends connected so far stay
            self._notify_failure(f"Cannot connect all of {clean(name)}", exc)
        finally:
            aclose = getattr(stream, "aclose", None)
            if aclose is not None:
                await aclose()
        if announce:
            self.notify(f"Switched to profile {clean(name)}.", markup=False)

    def _notify_failure(self, title: str, exc: BackendError | ValueError) -> None:
        """Say why something could not be done: a BackendError's sentence, or a ValueError's."""
        message = exc.message if isinstance(exc, BackendError) else str(exc)
        self.notify(clean(message), title=title, severity="error", markup=False)

    async def _next_frame(self) -> None:
        """Until the screen has been refreshed: what was just published is on screen."""
        painted = asyncio.get_running_loop().create_future()
        self.call_after_refresh(lambda: painted.done() or painted.set_result(None))
        await painted

    async def _settled(self, backend: OfferBackend, timeout: float) -> None:
        """Until ``backend`` has answered its first listing (or failed), at most ``timeout`` s."""
        status = self.status.get(backend.name)
        if status is not None and status.health is not Health.LOADING:
            return
        settled = self._settling.setdefault(backend.name, asyncio.Event())
        try:
            async with asyncio.timeout(timeout):
                await settled.wait()
        except TimeoutError:
            pass

    def _adopt(self, backend: OfferBackend) -> None:
        """Start following a newly connected backend; the status line keeps a fixed order."""
        order = list(BACKEND_LABELS)
        self.backends.append(backend)
        self.backends.sort(key=lambda b: order.index(b.name) if b.name in order else len(order))
        self.follow(backend)

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        yield SystemCommand("Help", "Keys and what each part of the screen means", self.action_help)
        yield SystemCommand("Reload offers", "Ask every backend for its offers again", self.action_refresh)
